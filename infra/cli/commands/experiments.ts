import type { CommandModule } from 'yargs';
import { EXPERIMENTS } from '../../../src/experiments/registry';
import { print, printJson, type GlobalArgs } from '../context';

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
        print(`  --set ${p.name}=${d}`.padEnd(36) + ` ${p.kind}: ${p.description}`);
      }
      print();
    }
  },
};
