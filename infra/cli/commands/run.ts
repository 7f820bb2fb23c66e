import { checkNewRunId, runIdOfWorkflow } from '../../../src/runs/ids';
import type { CommandModule } from 'yargs';
import { planRun } from '../../../src/experiments/registry';
import { checkS3, connectTemporal, makeObjectStore } from '../../clients';
import { awaitResult, formatResult, startRun } from '../runs';
import { configFrom, intFlag, print, printJson, type GlobalArgs } from '../context';
import { EXIT } from '../exit-codes';

interface RunArgs extends GlobalArgs {
  experiment: string;
  preset: string;
  set: string[];
  seed: number;
  wait: boolean;
  id?: string;
  cache: boolean;
  allowLarge?: boolean;
}

export const runCommand: CommandModule<GlobalArgs, RunArgs> = {
  command: 'run <experiment>',
  describe: 'Start a reproduction (prints its run id; with --wait, its result)',
  builder: (y) =>
    y
      .positional('experiment', {
        type: 'string',
        demandOption: true,
        describe: 'experiment name (see `repro experiments`)',
      })
      .option('preset', { type: 'string', default: 'default', describe: 'named parameter set of the experiment' })
      .option('set', {
        type: 'string',
        array: true,
        default: [],
        describe: 'override a parameter: --set key=value (repeatable)',
      })
      .option('seed', { type: 'number', default: 1, describe: 'seed of every random stream of the run' })
      .option('wait', {
        type: 'boolean',
        default: false,
        describe: 'wait for the run to finish and print its result; exit 3 if a claim did not pass',
      })
      .option('id', { type: 'string', describe: 'run id to use (default: <experiment>-<time>-<random>)' })
      .option('cache', {
        type: 'boolean',
        default: true,
        describe: 'reuse cached stage results (--no-cache recomputes them)',
      })
      .option('allow-large', {
        type: 'boolean',
        default: false,
        describe: "accept --set values above a parameter's usual bound (`repro experiments --json` lists them)",
      }),
  handler: async (argv) => {
    // Every argument is checked before anything connects: a mistake is named even with the servers down.
    intFlag('seed', argv.seed, 0);
    if (argv.id !== undefined) checkNewRunId(argv.id);
    const { experiment, params } = planRun(argv.experiment, argv.preset, argv.set, { allowLarge: argv.allowLarge });
    const config = configFrom(argv);
    // Both services are checked before anything starts, so a failure leaves nothing half-begun.
    const { client, connection } = await connectTemporal(config);
    try {
      await checkS3(config);
      const handle = await startRun(client, config, experiment, argv.preset, params, argv.seed, argv.id, !argv.cache);
      const runId = runIdOfWorkflow(handle.workflowId);
      if (!argv.wait) {
        if (argv.json) printJson({ runId });
        else print(runId);
        return;
      }
      if (!argv.json) process.stderr.write(`started ${runId}; waiting for it to finish\n`);
      const result = await awaitResult(handle, makeObjectStore(config));
      if (argv.json) printJson(result);
      else print(formatResult(result));
      // As `repro reproduce` ends: a script can tell a run whose claims did not all pass from one that did.
      if (result.claims.some((c) => c.verdict !== 'pass')) process.exitCode = EXIT.claimsNotPassed;
    } finally {
      await connection.close();
    }
  },
};
