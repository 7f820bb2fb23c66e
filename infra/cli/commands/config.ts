import type { CommandModule } from 'yargs';
import { publicConfig } from '../../../temporal.config';
import { configWithOriginsFrom, print, printJson, type GlobalArgs } from '../context';

/** A config value as one line: strings quoted (an empty one shows as ""), secrets masked. */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The value at a dotted key of a nested object. */
function at(config: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part], config);
}

export const configCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'config',
  describe:
    'Print the effective configuration (secrets masked) and where each key came from: default, ' +
    "the Temporal CLI's profile, the config file, an environment variable or a flag",
  handler: (argv) => {
    const { config, origins } = configWithOriginsFrom(argv);
    const pub = publicConfig(config);
    const keys = Object.keys(origins);
    if (argv.json) {
      return printJson({
        config: pub,
        origins,
      });
    }
    const width = Math.max(...keys.map((k) => k.length));
    for (const key of keys) print(`${key.padEnd(width)}  ${shown(at(pub, key))}  (${origins[key]})`);
    const meta = pub.temporal.grpcMeta;
    if (meta)
      print(`${'temporal.grpcMeta'.padEnd(width)}  ${JSON.stringify(meta)}  (Temporal profile, TEMPORAL_GRPC_META_*)`);
  },
};
