import type { CommandModule } from 'yargs';
import { ALLOW_LARGE_FLAG, type ParamSpec } from '../../../src/experiments/params';
import { EXPERIMENTS } from '../../../src/experiments/registry';
import { print, printJson, type GlobalArgs } from '../context';

/** A parameter's bounds as `repro experiments` lists them: ` (>= 1, <= 60000; over 1e9 with --allow-large)`. */
function bounds(p: ParamSpec): string {
  const hard = [
    ...(p.min !== undefined ? [`>= ${p.min}`] : []),
    ...(p.above !== undefined ? [`> ${p.above}`] : []),
    ...(p.max !== undefined ? [`<= ${p.max}`] : []),
  ].join(', ');
  const large = p.large !== undefined ? `over ${p.large} with ${ALLOW_LARGE_FLAG}` : '';
  return hard || large ? ` (${[hard, large].filter(Boolean).join('; ')})` : '';
}

export const experimentsCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'experiments',
  describe: 'List the experiments that can be run, with their parameters and defaults',
  handler: (argv) => {
    if (argv.json) {
      return printJson(
        EXPERIMENTS.map((e) => ({
          name: e.name,
          title: e.title,
          paper: e.paper,
          description: e.description,
          presets: e.presets,
          params: e.params,
        })),
      );
    }
    for (const e of EXPERIMENTS) {
      print(`${e.name}: ${e.title}`);
      print(`  ${e.description}`);
      print(`  presets: ${Object.keys(e.presets).join(', ')}`);
      for (const p of e.params) {
        const d = Array.isArray(p.default) ? p.default.join(',') : String(p.default);
        print(`  --set ${p.name}=${d}`.padEnd(36) + ` ${p.kind}: ${p.description}${bounds(p)}`);
      }
      print();
    }
  },
};
