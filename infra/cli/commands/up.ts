import type { CommandModule } from 'yargs';
import { stackUp } from '../../stack/embedded-stack';
import { configFrom, print, printJson, type GlobalArgs } from '../context';

export const upCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'up',
  describe: 'Start the embedded Temporal dev server and S3 server (building them once if missing)',
  handler: async (argv) => {
    const config = configFrom(argv);
    const a = await stackUp(config, (line) => process.stderr.write(line + '\n'));
    if (argv.json) return printJson(a);
    const front = a.started.includes('temporal-front') || a.alreadyRunning.includes('temporal-front');
    print(
      `Temporal: ${a.temporal} (${a.started.includes('temporal') ? 'started' : 'already running'}` +
        `${front ? '; TLS front to the dev server on loopback' : ''})`,
    );
    print(`Web UI:   ${a.webUi}`);
    print(`S3:       ${a.s3} bucket ${a.bucket} (${a.started.includes('s3') ? 'started' : 'already running'})`);
    print(`Data:     ${a.dataDir}`);
    if (a.s3Credentials)
      print(
        `S3 keys:  ${a.s3Credentials} (made for this install; other hosts' workers take them as ` +
          'REPRO_S3_ACCESS_KEY_ID and REPRO_S3_SECRET_ACCESS_KEY)',
      );
  },
};
