import type { Argv, CommandModule } from 'yargs';
import { codecFor } from '../../codec';
import { startCodecServer } from '../../codec-server';
import { configFrom, print, UsageError, type GlobalArgs } from '../context';

interface CodecServerArgs extends GlobalArgs {
  port?: number;
}

export const codecServerCommand: CommandModule<GlobalArgs, CodecServerArgs> = {
  command: 'codec-server',
  describe: 'Serve the payload codec to the Web UI, so it shows encrypted payloads decrypted (needs codec.key)',
  builder: (y) =>
    y.option('port', {
      type: 'number',
      describe: 'port (default codec.serverPort)',
    }) as unknown as Argv<CodecServerArgs>,
  handler: async (argv) => {
    const config = configFrom(argv);
    const codec = codecFor(config);
    if (!codec)
      throw new UsageError(
        'codec.key is empty: set REPRO_CODEC_KEY (openssl rand -base64 32) to the key the workers use',
      );
    const port = argv.port ?? config.codec.serverPort;
    const c = config.codec;
    await startCodecServer(codec, {
      port,
      uiOrigin: c.uiOrigin,
      token: c.serverToken,
      maxBodyBytes: c.serverMaxBodyBytes,
      encode: c.serverEncode,
    });
    print(
      `codec server for key ${codec.keyId} on http://127.0.0.1:${port} (answering ${c.uiOrigin}; ` +
        `${c.serverEncode ? '/decode and /encode' : '/decode only'}` +
        `${c.serverToken ? ', bearer token required' : ''}); ` +
        'in the Web UI: Settings > Codec Server > this address. Ctrl-C stops it.',
    );
    await new Promise(() => {});
  },
};
