import { createWriteStream, mkdirSync } from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { DEFAULT_SUITE, planRun } from '../../../src/experiments/registry';
import { tally } from '../../../src/results/claims';
import type { RunResult } from '../../../src/results/run-result';
import { connectTemporal, makeObjectStore } from '../../clients';
import { stackUp } from '../../stack/embedded-stack';
import { runWorker } from '../../worker/start-worker';
import { ProgressView } from '../progress-view';
import { awaitResult, formatResult, runProgress, startRun } from '../runs';
import { configFrom, intFlag, print, printJson, type GlobalArgs } from '../context';
import { EXIT } from '../exit-codes';
import { downloadReport, writeReportIndex } from './report';

interface ReproduceArgs extends GlobalArgs {
  experiments?: string[];
  preset?: string;
  seed: number;
}

const seconds = (ms: number): string =>
  ms < 60_000 ? `${(ms / 1000).toFixed(0)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

export const reproduceCommand: CommandModule<GlobalArgs, ReproduceArgs> = {
  command: 'reproduce',
  describe:
    'The main job: start the embedded stack and a worker, run the small preset of every experiment, ' +
    'write reports and their index',
  builder: (y) =>
    y
      .option('experiments', {
        type: 'string',
        array: true,
        describe: `an experiment to run, repeatable (default: ${DEFAULT_SUITE.map((s) => s.experiment).join(', ')})`,
      })
      .option('preset', { type: 'string', describe: "preset for every experiment (default: the suite's, `small`)" })
      .option('seed', { type: 'number', default: 1 }),
  handler: async (argv) => {
    intFlag('seed', argv.seed, 0);
    const suite = argv.experiments?.length
      ? argv.experiments.map((experiment) => ({ experiment, preset: 'small' }))
      : DEFAULT_SUITE;
    const plans = suite.map((s) => ({
      ...planRun(s.experiment, argv.preset ?? s.preset, []),
      preset: argv.preset ?? s.preset,
    }));
    const config = configFrom(argv);
    const stack = await stackUp(config, (line) => process.stderr.write(line + '\n'));
    process.stderr.write(`stack up: Temporal ${stack.temporal}, Web UI ${stack.webUi}, S3 ${stack.s3}\n`);

    mkdirSync(config.dataDir, { recursive: true });
    const workerLog = createWriteStream(path.join(config.dataDir, 'worker.log'), { flags: 'a' });
    const stopWorker = new AbortController();
    const worker = runWorker(config, {
      queues: ['cpu', 'gpu'],
      stop: stopWorker.signal,
      log: (e) => workerLog.write(JSON.stringify({ ts: new Date().toISOString(), ...e }) + '\n'),
    });
    const { client, connection } = await connectTemporal(config);
    const store = makeObjectStore(config);
    const reports = path.join(config.dataDir, 'reports');
    const done: Array<{ result: RunResult; ms: number; report: string }> = [];
    const view = new ProgressView();
    const t0 = Date.now();
    try {
      for (const [i, { experiment, params, preset }] of plans.entries()) {
        const label = `${experiment.name} (${i + 1}/${plans.length})`;
        const started = Date.now();
        const handle = await startRun(client, config, experiment, preset, params, argv.seed);
        view.begin(label);
        const ticker = setInterval(() => {
          void runProgress(client, handle).then(
            ({ progress }) => view.update(label, progress),
            () => {},
          );
        }, 1000);
        let result: RunResult;
        try {
          result = await awaitResult(handle, store);
        } finally {
          clearInterval(ticker);
        }
        const t = tally(result.claims);
        view.end(
          label,
          `${t.pass} pass, ${t.fail} fail, ${t.inconclusive} inconclusive in ${seconds(Date.now() - started)}`,
        );
        const report = await downloadReport(store, result.runId, reports);
        done.push({ result, ms: Date.now() - started, report });
        if (!argv.json) print(formatResult(result) + `\n  local report: ${report}\n`);
      }
    } finally {
      await connection.close();
      stopWorker.abort();
      await worker;
      workerLog.end();
    }
    const index = await writeReportIndex(store, reports);
    if (argv.json)
      printJson({ results: done.map((d) => d.result), index: index.path, wallSeconds: (Date.now() - t0) / 1000 });
    else {
      const rows = done.map(({ result: r, ms }) => {
        const t = tally(r.claims);
        return [r.experiment, r.preset, String(t.pass), String(t.fail), String(t.inconclusive), seconds(ms)];
      });
      const head = ['experiment', 'preset', 'pass', 'fail', 'inconclusive', 'wall time'];
      const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
      const line = (cells: string[]): string => cells.map((x, c) => x.padEnd(widths[c]!)).join('  ');
      print(line(head));
      for (const r of rows) print(line(r));
      print(`total wall time ${seconds(Date.now() - t0)}`);
      print(`report index: ${index.path}`);
      print(`Web UI: ${stack.webUi}   (stop the servers with \`npx repro down\`)`);
    }
    if (done.some((d) => d.result.claims.some((c) => c.verdict !== 'pass'))) process.exitCode = EXIT.claimsNotPassed;
  },
};
