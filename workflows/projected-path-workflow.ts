import { ActivityCancellationType, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Minimum } from '../activities/pipeline/path-stages';
import type { PathCountsTotal, PathRow } from '../activities/pipeline/summarize-projected-path';
import type { StateRef } from '../activities/pipeline/workspace';
import type { PipelineParams } from '../src/experiments/projected-path/definition';
import { projectedPath, type PathOracle, type PathPoint } from '../src/landscape/projected-path';
import type { RunResult } from '../src/results/run-result';
import type { RunInput } from './run-input';

/** Child workflows and activities at once per seed; keeps fan-out and history bounded. */
const WINDOW = 16;
/** Epochs per training activity: a segment checkpoints every epoch and can be resumed anywhere. */
const EPOCHS_PER_SEGMENT = 5;

function activities(input: RunInput) {
  const common = {
    heartbeatTimeout: input.timeouts.heartbeatMs,
    startToCloseTimeout: input.timeouts.activityStartToCloseMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 30_000, maximumAttempts: 20, nonRetryableErrorTypes: ['Divergence', 'ParamError', 'DataFormatError', 'CorruptCheckpoint'] },
  };
  // Numerics on the gpu queue (one model per slot), the summary on cpu.
  return {
    gpu: proxyActivities<Activities>({ ...common, taskQueue: input.taskQueues.gpu }),
    cpu: proxyActivities<Activities>({ ...common, taskQueue: input.taskQueues.cpu }),
  };
}

async function windowed<T, R>(items: T[], f: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(WINDOW, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!, i);
    }
  }));
  return out;
}

export interface SeedPathInput {
  run: RunInput;
  seed: number;
}

export interface SeedPathResult {
  rows: PathRow[];
  counts: PathCountsTotal;
}

/**
 * projected-path (fig1, fig3): one child workflow per seed trains, projects and estimates the
 * trace; this workflow gathers the paths and writes the report.
 */
export async function projectedPathWorkflow(input: RunInput): Promise<RunResult> {
  const p = input.params as unknown as PipelineParams;
  const started = Date.now();
  const seeds = Array.from({ length: p.seeds }, (_, i) => input.seed + i);
  const perSeed = await windowed(seeds, (seed) => executeChild(seedPathWorkflow, {
    workflowId: `${workflowInfo().workflowId}/seed/${seed}`, taskQueue: input.taskQueues.cpu, args: [{ run: input, seed }],
  }));
  const counts: PathCountsTotal = { trainSteps: 0, projections: 0, replays: 0, lineChecks: 0, cacheHits: 0 };
  for (const r of perSeed) for (const k of Object.keys(counts) as Array<keyof PathCountsTotal>) counts[k] += r.counts[k];
  return await activities(input).cpu.summarizeProjectedPath({
    runId: input.runId, experiment: input.experiment, preset: input.preset, params: p, seed: input.seed,
    rows: perSeed.flatMap((r) => r.rows), counts, wallMs: Date.now() - started,
  });
}

/** One seed: train in segments, project each epoch pair (a child workflow each), trace along the path. */
export async function seedPathWorkflow(input: SeedPathInput): Promise<SeedPathResult> {
  const { run, seed } = input;
  const p = run.params as unknown as PipelineParams;
  const { gpu } = activities(run);
  const counts: PathCountsTotal = { trainSteps: 0, projections: 0, replays: 0, lineChecks: 0, cacheHits: 0 };
  let trained = await gpu.trainSeed({ runId: run.runId, seed, params: p, untilEpoch: Math.min(p.epochs, EPOCHS_PER_SEGMENT) });
  counts.trainSteps += trained.trainSteps;
  while (trained.epoch < p.epochs) {
    trained = await gpu.trainSeed({ runId: run.runId, seed, params: p, untilEpoch: Math.min(p.epochs, trained.epoch + EPOCHS_PER_SEGMENT) });
    counts.trainSteps += trained.trainSteps;
  }
  const pairs = trained.epochs.slice(1).map((b, i) => [trained.epochs[i]!, b] as const);
  const segments = await windowed(pairs, ([a, b]) => executeChild(pathSegmentWorkflow, {
    workflowId: `${workflowInfo().workflowId}/projection/${a.iteration}-${b.iteration}`,
    taskQueue: run.taskQueues.cpu, args: [{ run, seed, a, b }],
  }));
  const points: Array<PathPoint<StateRef, Minimum>> = [];
  segments.forEach((s, i) => {
    points.push(...(i === 0 ? s.points : s.points.slice(1)));
    for (const k of Object.keys(counts) as Array<keyof PathCountsTotal>) if (k !== 'trainSteps') counts[k] += s.counts[k];
  });
  const rows = await windowed(points, async (pt, index) => {
    let trace: number | null = null, traceStderr: number | null = null;
    if (index % p.traceStride === 0 || index === points.length - 1) {
      const t = await gpu.estimateTrace({ params: p, minimum: pt.minimum.minimum, probeSeed: seed, noCache: run.noCache ?? false });
      if (t.cacheHit) counts.cacheHits++;
      ({ trace, stderr: traceStderr } = t.value);
    }
    return { seed, iteration: pt.iteration, epoch: pt.iteration / trained.stepsPerEpoch, trainLoss: pt.minimum.trainLoss, valLoss: pt.minimum.valLoss, trace, traceStderr };
  });
  return { rows, counts };
}

export interface PathSegmentInput {
  run: RunInput;
  seed: number;
  a: StateRef;
  b: StateRef;
}

/** Bisection between two consecutive epoch states until consecutive minima are line-connected. */
export async function pathSegmentWorkflow(input: PathSegmentInput): Promise<{ points: Array<PathPoint<StateRef, Minimum>>; counts: PathCountsTotal }> {
  const { run, seed } = input;
  const p = run.params as unknown as PipelineParams;
  const { gpu } = activities(run);
  const noCache = run.noCache ?? false;
  let cacheHits = 0;
  const oracle: PathOracle<StateRef, Minimum> = {
    async replay(from, to) {
      const r = await gpu.replayState({ runId: run.runId, seed, params: p, from: from.state, toIteration: to, noCache });
      if (r.cacheHit) cacheHits++;
      return r.value;
    },
    async project(state) {
      const r = await gpu.projectState({ params: p, state, noCache });
      if (r.cacheHit) cacheHits++;
      return r.value;
    },
    async connected(a, b) {
      const r = await gpu.checkConnected({ params: p, a: a.minimum, b: b.minimum, noCache });
      if (r.cacheHit) cacheHits++;
      return r.value.connected;
    },
  };
  const { path, counts } = await projectedPath(oracle, [{ iteration: input.a.iteration, state: input.a }, { iteration: input.b.iteration, state: input.b }]);
  return { points: path, counts: { trainSteps: 0, projections: counts.projections, replays: counts.replays, lineChecks: counts.lineChecks, cacheHits } };
}
