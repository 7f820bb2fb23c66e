import { createHash } from 'crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { WorkflowHandle } from '@temporalio/client';
import type { CommandModule } from 'yargs';
import { DEFAULT_SUITE, planRun } from '../../../src/experiments/registry';
import { tally } from '../../../src/results/claims';
import type { RunResult } from '../../../src/results/run-result';
import { connectTemporal, makeObjectStore } from '../../clients';
import { stackUp } from '../../stack/embedded-stack';
import { startChildWorkers, workerArgs } from '../../worker/child-workers';
import { runWorker } from '../../worker/start-worker';
import { RunEta, type Profile } from '../eta';
import { SuiteView, summarizeProgress } from '../progress-view';
import { awaitResult, formatResult, runProgress, startRun } from '../runs';
import { configFrom, intFlag, printJson, type GlobalArgs } from '../context';
import { EXIT } from '../exit-codes';
import { downloadReport, writeReportIndex } from './report';

interface ReproduceArgs extends GlobalArgs {
  experiments?: string[];
  preset?: string;
  seed: number;
}

const seconds = (ms: number): string =>
  ms < 60_000 ? `${(ms / 1000).toFixed(0)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

/**
 * How long each experiment took here last time and when it reached each fraction of its steps
 * (`timings.json` in the data folder, by `experiment/preset`), with a digest of the parameters it
 * ran with: a preset whose values changed since is timed afresh (a stale time once started the
 * suite's longest experiment eighth). An old file's bare seconds count as unknown.
 */
type Timings = Record<string, number | (Profile & { params?: string })>;

const digest = (params: unknown): string =>
  createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 16);

function readTimings(file: string): Timings {
  try {
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Timings) : {};
  } catch {
    return {}; // a damaged file only loses the ordering hint and the ETAs' prior
  }
}

/**
 * Numeric worker processes beside this one: each serves the gpu queue's activities only, one at a
 * time, on its share of the cores (its own process: JavaScript runs one computation at a time).
 * One that dies is replaced (its activities go on from their checkpoints), a few times at most.
 * Metrics ports stay with this process: n children on one configured port would collide.
 */
function startNumericWorkers(n: number, threads: number, argv: ReproduceArgs, log: (line: string) => void) {
  const args = workerArgs(argv, [
    `torch.threads=${threads}`,
    'worker.gpus=0',
    // Short stages on one machine: the next task waits in the worker, no poll round trip between them.
    'worker.gpuPrefetch=1',
    'worker.metricsPort=0',
    'worker.sdkMetricsPort=0',
  ]);
  return startChildWorkers(
    Array.from({ length: n }, () => ({ args, env: {} })),
    log,
  );
}

export const reproduceCommand: CommandModule<GlobalArgs, ReproduceArgs> = {
  command: 'reproduce',
  describe:
    'The main job: start the embedded stack and workers, run the small preset of every experiment side by side, ' +
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
      ? argv.experiments.map(
          (experiment) =>
            DEFAULT_SUITE.find((s) => s.experiment === experiment) ?? { experiment, preset: 'small', seconds: 60 },
        )
      : DEFAULT_SUITE;
    const config = configFrom(argv);
    const timingsFile = path.join(config.dataDir, 'timings.json');
    const timings = readTimings(timingsFile);
    const plans = suite.map((s) => {
      const preset = argv.preset ?? s.preset;
      const planned = planRun(s.experiment, preset, []);
      const last = timings[`${s.experiment}/${preset}`];
      const prior = typeof last === 'object' && last.params === digest(planned.params) ? last : undefined;
      const typical = prior?.seconds ?? s.seconds;
      const after = 'after' in s && s.after && suite.some((x) => x.experiment === s.after) ? s.after : undefined;
      return { ...planned, preset, typical, prior, after };
    });
    // Longest first, so that the short ones fill the cores at the end.
    const pending = [...plans].sort((a, b) => b.typical - a.typical);

    const stack = await stackUp(config, (line) => process.stderr.write(line + '\n'));
    process.stderr.write(`stack up: Temporal ${stack.temporal}, Web UI ${stack.webUi}, S3 ${stack.s3}\n`);
    mkdirSync(config.dataDir, { recursive: true });
    const workerLog = createWriteStream(path.join(config.dataDir, 'worker.log'), { flags: 'a' });
    const progressLog = createWriteStream(path.join(config.dataDir, 'progress.jsonl'), { flags: 'a' });
    // Side by side: one numeric worker process per core (at most 8), each on its share of the
    // cores, as many experiments at once as there are workers; this process serves the workflows
    // and the light queue. Even one experiment gets every worker: a projected path's epoch pairs
    // and a study's units run side by side (fig1 alone on 2 cores: 6 min 3 s on one worker of
    // 2 threads, 4 min 5 s on two of one).
    const cores = os.availableParallelism();
    const workers = Math.max(1, Math.min(cores, 8));
    const threads = Math.max(1, Math.floor(cores / workers));
    const slots = Math.min(workers, plans.length);
    process.stderr.write(
      `running ${plans.length} experiments, ${slots} at a time, ` +
        `on ${workers} numeric worker(s) of ${threads} thread(s)\n`,
    );
    const numeric = startNumericWorkers(workers, threads, argv, (l) => workerLog.write(l));
    const stopWorker = new AbortController();
    const worker = runWorker(
      { ...config, torch: { ...config.torch, threads } },
      {
        queues: ['cpu'],
        stop: stopWorker.signal,
        log: (e) => workerLog.write(JSON.stringify({ ts: new Date().toISOString(), ...e }) + '\n'),
      },
    );
    const { client, connection } = await connectTemporal(config);
    const store = makeObjectStore(config);
    const reports = path.join(config.dataDir, 'reports');
    const done: Array<{ result: RunResult; ms: number; report: string }> = [];
    const view = new SuiteView(plans.length);
    const t0 = Date.now();
    type Flight = {
      plan: (typeof plans)[number];
      label: string;
      handle: WorkflowHandle;
      started: number;
      eta: RunEta;
      stageNow?: string;
    };
    const flying = new Map<string, Flight>();
    // Ctrl-C or SIGTERM: the workers stop (their units checkpoint), so the runs in flight cannot
    // go on; they are terminated (this stack is this job's own) and the job ends at once instead
    // of waiting on runs no worker serves. What they checkpointed stays cached for the next start.
    let interrupt!: (err: Error) => void;
    const interrupted = new Promise<never>((_, reject) => (interrupt = reject));
    interrupted.catch(() => {});
    const onSignal = (sig: NodeJS.Signals): void => {
      const ids = [...flying.values()].map((f) => f.handle.workflowId.replace(/^run\//, ''));
      interrupt(
        Object.assign(
          new Error(
            `interrupted by ${sig}` +
              (ids.length ? `; runs ${ids.join(', ')} ended, their checkpoints kept for the next \`npm start\`` : ''),
          ),
          { name: 'Interrupted' },
        ),
      );
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const finished = new Set<string>();
    let failure: unknown;
    const rowOf = (f: Flight): { fraction: number; stage: string; eta?: number } => {
      const fraction = f.eta.fraction();
      // From the last run's profile as soon as there is one; from step rates once 10% is done.
      const measured = fraction >= 0.1 || f.plan.prior ? f.eta.remaining() : undefined;
      const left = f.plan.typical - (Date.now() - f.started) / 1000;
      return { fraction, stage: f.stageNow ?? '', eta: measured ?? (left > 0 ? left : undefined) };
    };
    let polling: Promise<unknown> | undefined;
    const poll = setInterval(() => {
      if (polling) return; // the last poll is still asking: skip this tick
      polling = Promise.all(
        [...flying.values()].map(async (f) => {
          const { progress } = await runProgress(client, f.handle).catch(() => ({ progress: undefined }));
          const t = (Date.now() - f.started) / 1000;
          f.eta.observe(progress, t);
          f.stageNow = summarizeProgress(progress).stage;
          progressLog.write(JSON.stringify({ t, experiment: f.plan.experiment.name, progress }) + '\n');
        }),
      )
        .then(() => {
          const rows = [...flying.values()].map((f) => ({ label: f.label, ...rowOf(f) }));
          const left = rows.reduce((a, r) => a + (r.eta ?? 0), 0) + pending.reduce((a, p) => a + p.typical, 0);
          view.update(rows, finished.size, left / slots);
        })
        .finally(() => (polling = undefined));
    }, 1000);
    const runOne = async (plan: (typeof plans)[number]): Promise<void> => {
      const label = `${plan.experiment.name} (${plans.indexOf(plan) + 1}/${plans.length})`;
      const handle = await startRun(client, config, plan.experiment, plan.preset, plan.params, argv.seed);
      const flight: Flight = { plan, label, handle, started: Date.now(), eta: new RunEta(plan.prior) };
      flying.set(label, flight);
      view.begin(label);
      try {
        const outcome = awaitResult(handle, store);
        outcome.catch(() => {}); // after an interrupt nobody waits on it
        const result = await Promise.race([outcome, interrupted]).catch(async (err: Error) => {
          if (err.name === 'Interrupted') await handle.terminate('the main job was interrupted').catch(() => {});
          throw err;
        });
        const ms = Date.now() - flight.started;
        progressLog.write(JSON.stringify({ t: ms / 1000, experiment: plan.experiment.name, done: true }) + '\n');
        const t = tally(result.claims);
        view.end(label, `${t.pass} pass, ${t.fail} fail, ${t.inconclusive} inconclusive in ${seconds(ms)}`);
        const report = await downloadReport(store, result.runId, reports);
        done.push({ result, ms, report });
        timings[`${plan.experiment.name}/${plan.preset}`] = {
          ...flight.eta.profile(Math.round(ms / 100) / 10),
          params: digest(plan.params),
        };
        if (!argv.json) view.print(formatResult(result) + `\n  local report: ${report}\n`);
      } finally {
        flying.delete(label);
        finished.add(plan.experiment.name);
      }
    };
    try {
      // Up to `slots` experiments at once (plus the short ones of the light queue); one that reuses
      // another's stages waits for it.
      await new Promise<void>((resolve) => {
        let active = 0;
        const next = (): void => {
          while (!failure && active < slots) {
            const i = pending.findIndex((p) => !p.after || finished.has(p.after));
            if (i < 0) break;
            const [plan] = pending.splice(i, 1);
            active++;
            void runOne(plan!)
              .catch((err: unknown) => (failure ??= err))
              .finally(() => {
                active--;
                next();
              });
          }
          if (active === 0 && (failure || !pending.length)) resolve();
        };
        next();
      });
    } finally {
      clearInterval(poll);
      await polling?.catch(() => {}); // its calls finish before the connection closes
      view.stop();
      await connection.close();
      stopWorker.abort();
      await worker;
      await numeric.stop();
      workerLog.end();
      progressLog.end();
      writeFileSync(timingsFile, JSON.stringify(timings, null, 2) + '\n');
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (failure) throw failure;
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
      process.stdout.write(line(head) + '\n');
      for (const r of rows) process.stdout.write(line(r) + '\n');
      process.stdout.write(`total wall time ${seconds(Date.now() - t0)} (${slots} experiments at a time)\n`);
      process.stdout.write(`report index: ${index.path}\n`);
      process.stdout.write(`Web UI: ${stack.webUi}   (stop the servers with \`npx repro down\`)\n`);
    }
    if (done.some((d) => d.result.claims.some((c) => c.verdict !== 'pass'))) process.exitCode = EXIT.claimsNotPassed;
  },
};
