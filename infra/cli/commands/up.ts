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
    print(`Temporal: ${a.temporal} (${a.started.includes('temporal') ? 'started' : 'already running'})`);
    print(`Web UI:   ${a.webUi}`);
    print(`S3:       ${a.s3} bucket ${a.bucket} (${a.started.includes('s3') ? 'started' : 'already running'})`);
    print(`Data:     ${a.dataDir}`);
  },
};
