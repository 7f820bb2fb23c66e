import { createWriteStream, mkdirSync } from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { downloadReport } from './report';
import { DEFAULT_SUITE, planRun } from '../../../src/experiments/registry';
import type { RunResult } from '../../../src/results/run-result';
import { connectTemporal, makeObjectStore } from '../../clients';
import { stackUp } from '../../stack/embedded-stack';
import { runWorker } from '../../worker/start-worker';
import { awaitResult, formatResult, startRun } from '../runs';
import { configFrom, print, printJson, type GlobalArgs } from '../context';

interface ReproduceArgs extends GlobalArgs {
  experiments?: string[];
  preset?: string;
  seed: number;
}

/** Exit status when every run finished but a claim did not pass (it failed, or was inconclusive). */
export const CLAIMS_FAILED_EXIT = 3;

export const reproduceCommand: CommandModule<GlobalArgs, ReproduceArgs> = {
  command: 'reproduce',
  describe: 'The main job: start the embedded stack and a worker, run the default suite, write reports',
  builder: (y) => y
    .option('experiments', { type: 'string', array: true, describe: `experiments to run (default: ${DEFAULT_SUITE.map((s) => `${s.experiment} (${s.preset})`).join(', ')})` })
    .option('preset', { type: 'string', describe: 'preset for every experiment (default: the suite\'s, or `default`)' })
    .option('seed', { type: 'number', default: 1 }),
  handler: async (argv) => {
    const suite = argv.experiments?.length ? argv.experiments.map((experiment) => ({ experiment, preset: 'default' })) : DEFAULT_SUITE;
    const plans = suite.map((s) => ({ ...planRun(s.experiment, argv.preset ?? s.preset, []), preset: argv.preset ?? s.preset }));
    const config = configFrom(argv);
    const stack = await stackUp(config, (line) => process.stderr.write(line + '\n'));
    process.stderr.write(`stack up: Temporal ${stack.temporal}, Web UI ${stack.webUi}, S3 ${stack.s3}\n`);

    mkdirSync(config.dataDir, { recursive: true });
    const workerLog = createWriteStream(path.join(config.dataDir, 'worker.log'), { flags: 'a' });
    const stopWorker = new AbortController();
    const worker = runWorker(config, { queues: ['cpu', 'gpu'], stop: stopWorker.signal, log: (e) => workerLog.write(JSON.stringify({ ts: new Date().toISOString(), ...e }) + '\n') });
    const { client, connection } = await connectTemporal(config);
    const results: RunResult[] = [];
    try {
      for (const { experiment, params, preset } of plans) {
        const handle = await startRun(client, config, experiment, preset, params, argv.seed);
        process.stderr.write(`running ${handle.workflowId} (watch: ${stack.webUi}/namespaces/${config.temporal.namespace}/workflows)\n`);
        const result = await awaitResult(handle, makeObjectStore(config));
        results.push(result);
        const report = await downloadReport(makeObjectStore(config), result.runId, path.join(config.dataDir, 'reports'));
        if (!argv.json) print(formatResult(result) + `\n  local report: ${report}\n`);
      }
    } finally {
      await connection.close();
      stopWorker.abort();
      await worker;
      workerLog.end();
    }
    if (argv.json) printJson(results);
    else print(`Web UI: ${stack.webUi}   (stop the servers with \`npx repro down\`)`);
    if (results.some((r) => r.claims.some((c) => c.verdict !== 'pass'))) process.exitCode = CLAIMS_FAILED_EXIT;
  },
};
