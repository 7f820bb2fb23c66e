import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  executeChild,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { activityProxies } from './activity-options';
import type { Minimum, TraceEstimate } from '../activities/projected-path/stage';
import type { TrainingKey } from '../activities/projected-path/train-seed';
import type { StateRef } from '../activities/projected-path/workspace';
import type { PathParams } from '../src/experiments/projected-path/params';
import { autoThreshold, fixedThreshold, pathParts, withData } from '../src/experiments/projected-path/parts';
import {
  addInto,
  MAX_LISTED,
  totalMs,
  zeroCompute,
  zeroCounts,
  type PathCountsTotal,
  type PathRow,
  type SeedPathStats,
  type StageComputeMs,
} from '../src/experiments/projected-path/rows';
import { projectedPath, type PathCounts, type PathOracle, type PathPoint } from '../src/landscape/projected-path';
import type { RunResult } from '../src/results/run-result';
import { childrenQuery, progressQuery, withMarks, type Progress } from './progress';
import { markBackend, markDone, markStage, showProgress } from './run-status';
import { seedWorkflowId, segmentWorkflowId, traceWorkflowId } from '../src/runs/ids';
import { answered, untilDone } from './durable';
import { runIdOf, type RunInput } from './run-input';

/** Child workflows and activities at once per seed; keeps fan-out and history bounded. */
const WINDOW = 16;
/** Epochs per training activity: a segment checkpoints every epoch and can be resumed anywhere. */
const EPOCHS_PER_SEGMENT = 5;
/** Path points per trace child workflow: ~6 history events each keeps a child near 1,500 events. */
const TRACE_CHUNK = 256;
/** Trace estimates per activity (one after the other on a worker; batches run side by side). */
const TRACE_BATCH = 16;
/**
 * Patches (`patched`): histories recorded before them replay along the old branches.
 * Each epoch pair's bisection is one activity (was a child workflow with an activity per stage);
 * a trace chunk's estimates go in batches of {@link TRACE_BATCH} per activity (was one each).
 */
const SEGMENT_IN_ONE_ACTIVITY = 'segment-in-one-activity';
const TRACES_IN_BATCHES = 'traces-in-batches';

const activities = activityProxies;

/** A child's or activity's parts: its seed's threshold (older histories: the run's fixed one) and data hash. */
function partsOf(p: PathParams, input: { threshold?: number; data?: string }) {
  const named = pathParts(p, input.threshold ?? fixedThreshold(p));
  return input.data ? withData(named, input.data) : named;
}

async function windowed<T, R>(items: readonly T[], f: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(WINDOW, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!, i);
      }
    }),
  );
  return out;
}

/** The type of an activity's application failure, if that is what `err` is. */
function failureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure
    ? (err.cause.type ?? undefined)
    : undefined;
}

/** True when this run's history should be handed to a fresh run before it grows further. */
function historyIsLong(run: RunInput<PathParams>): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= (run.continueAsNewEvents ?? 10_000);
}

/** What a seed's training has committed so far; small enough to carry across continue-as-new. */
export interface TrainingProgress {
  epoch: number;
  stepsPerEpoch: number;
  /** Epoch-boundary states, epoch 0 first. */
  epochs: StateRef[];
  trainSteps: number;
  computeMs: number;
  /** The backend the trajectory was trained on and keyed by. */
  backend: string;
  /** The trajectory the epochs belong to: later segments are pinned to it (absent in older histories). */
  key?: TrainingKey;
  /** Each epoch-boundary state's full-batch training loss, aligned with `epochs` (absent in older histories). */
  epochLosses?: Array<number | null>;
}

export interface SeedPathInput {
  run: RunInput<PathParams>;
  seed: number;
  /** fig4bc's bad minimum, once prepared (carried across continue-as-new). */
  start?: StateRef | null;
  /** Milliseconds of numerics its preparation took (training time: carried with `start`). */
  startMs?: number;
  /** Set when a seed's workflow continued as new in the middle of training. */
  training?: TrainingProgress;
}

/** A seed's outcome; its rows are in S3 (`runs/<id>/path/seed-<seed>/`), not in this payload. */
export interface SeedPathResult {
  seed: number;
  points: number;
  counts: PathCountsTotal;
  computeMs: StageComputeMs;
  stats: SeedPathStats;
}

/**
 * projected-path (fig1, fig3): one child workflow per seed trains, projects and estimates the
 * trace; this workflow adds up their counts and compute time and has the summary written.
 * The result it returns leaves out the path (the full result is `runs/<id>/result.json`).
 */
export async function projectedPathWorkflow(given: RunInput<PathParams>): Promise<RunResult> {
  const input = { ...given, runId: runIdOf(given, workflowInfo().workflowId) };
  const p = input.params;
  const started = Date.now();
  const seeds = Array.from({ length: p.seeds }, (_, i) => input.seed + i);
  const childIds: string[] = [];
  let done = 0;
  setHandler(childrenQuery, () => childIds);
  setHandler(progressQuery, () => ({ seeds: { step: done, of: seeds.length } }));
  markStage('seeds');
  showProgress({ seeds: { step: done, of: seeds.length } });
  const perSeed = await windowed(seeds, async (seed) => {
    const workflowId = seedWorkflowId(workflowInfo().workflowId, seed);
    childIds.push(workflowId);
    const r = await executeChild(seedPathWorkflow, {
      workflowId,
      taskQueue: input.taskQueues.cpu,
      args: [{ run: input, seed }],
      staticSummary: `${input.experiment} seed ${seed}: train, project each epoch pair, trace`,
    });
    done++;
    if (done === 1) markBackend(r.stats.backends[0]);
    showProgress({ seeds: { step: done, of: seeds.length } });
    return r;
  });
  const counts = zeroCounts();
  const computeMs = zeroCompute();
  for (const r of perSeed) {
    addInto(counts, r.counts);
    addInto(computeMs, r.computeMs);
  }
  markStage('summary');
  return markDone(
    await activities(input, 'summary, claims and report').cpu.summarizeProjectedPath({
      runId: input.runId,
      experiment: input.experiment,
      preset: input.preset,
      params: p,
      seed: input.seed,
      counts,
      computeMs,
      wallMs: Date.now() - started,
      seeds: perSeed.map((r) => r.stats),
    }),
  );
}

/**
 * One seed: train in segments (continuing as new if the history grows long), project each epoch
 * pair (a child workflow each), then estimate the trace along the path (a child per chunk).
 */
export async function seedPathWorkflow(input: SeedPathInput): Promise<SeedPathResult> {
  const { run, seed } = input;
  const p = run.params;
  const parts = pathParts(p);
  const noCache = run.noCache ?? false;
  let t = input.training;
  const progress: Progress = {
    'training (epochs)': { step: t?.epoch ?? 0, of: p.epochs, numericsMs: t?.computeMs ?? 0 },
  };
  setHandler(progressQuery, () => withMarks(progress));
  showProgress(progress, `seed ${seed}`);
  let start = input.start ?? null;
  let startMs = input.startMs ?? 0;
  if (parts.badStart) progress['bad minimum'] = { step: start ? 1 : 0, of: 1, numericsMs: startMs };
  if (parts.badStart && !start) {
    const r = await activities(run, `bad minimum, seed ${seed}`).gpu.prepareStart({
      runId: run.runId,
      seed,
      parts,
      noCache,
    });
    start = r.value.minimum;
    startMs = r.computeMs;
    progress['bad minimum'] = { step: 1, of: 1, numericsMs: startMs };
  }
  while (!t || t.epoch < p.epochs) {
    if (t && historyIsLong(run))
      await continueAsNew<typeof seedPathWorkflow>({ run, seed, training: t, start, startMs });
    const untilEpoch = Math.min(p.epochs, (t?.epoch ?? 0) + EPOCHS_PER_SEGMENT);
    let r;
    try {
      r = await activities(run, `train seed ${seed}, epochs ${t?.epoch ?? 0} → ${untilEpoch}`).gpu.trainSeed({
        runId: run.runId,
        seed,
        parts,
        noCache,
        checkpointEvery: p.checkpointEvery,
        start,
        untilEpoch,
        knownIteration: t?.epochs.at(-1)?.iteration ?? -1,
        pin: t?.key,
      });
    } catch (err) {
      // No worker that computes the pinned trajectory is left (an upgrade, a backend gone): start
      // the seed over on whatever computes now, so that its path is one trajectory, never two.
      if (t?.key && failureType(err) === 'OtherTrajectoryKey') {
        t = undefined;
        progress['training (epochs)'] = { step: 0, of: p.epochs, numericsMs: 0 };
        continue;
      }
      throw err;
    }
    t = {
      epoch: r.epoch,
      stepsPerEpoch: r.stepsPerEpoch,
      epochs: [...(t?.epochs ?? []), ...r.epochs],
      epochLosses: [...(t?.epochLosses ?? []), ...(r.epochLosses ?? r.epochs.map(() => null))],
      trainSteps: (t?.trainSteps ?? 0) + r.trainSteps,
      computeMs: (t?.computeMs ?? 0) + r.computeMs,
      backend: r.backend,
      key: r.key,
    };
    progress['training (epochs)'] = { step: t.epoch, of: p.epochs, numericsMs: t.computeMs };
    showProgress(progress, `seed ${seed}`);
  }
  const trained = t;
  // The paper's threshold: this seed's own minimal SGD training loss (or the one the run fixed).
  const threshold = p.threshold === 'auto' ? autoThreshold(trained.epochLosses ?? []) : p.threshold;
  if (!Number.isFinite(threshold)) {
    throw ApplicationFailure.nonRetryable(
      `seed ${seed}: no training loss recorded at its epoch boundaries to take the threshold from`,
      'MissingCheckpoint',
    );
  }
  const counts = { ...zeroCounts(), trainSteps: trained.trainSteps };
  // The bad minimum's SGD and GD count as training (they were dropped from the sum until 2026-12-07).
  const computeMs = { ...zeroCompute(), train: trained.computeMs + startMs };
  const backends = new Set([trained.backend]);
  const stats: SeedPathStats = {
    seed,
    points: 0,
    maxDepth: 0,
    connectedPairs: 0,
    unconnectedPairs: 0,
    unconnectedAfterSettle: 0,
    pairsAfterSettle: 0,
    unconnected: [],
    unreached: 0,
    backends: [],
    threshold,
  };
  const settled = p.settleEpochs * trained.stepsPerEpoch;

  const pairs = trained.epochs.slice(1).map((b, i) => [trained.epochs[i]!, b] as const);
  const projected = (progress['projection (epoch pairs)'] = { step: 0, of: pairs.length, numericsMs: 0 });
  const oneActivity = patched(SEGMENT_IN_ONE_ACTIVITY);
  const segments = await windowed(pairs, async ([a, b]) => {
    const segment: PathSegmentInput = { run, seed, a, b, backend: trained.backend, threshold, data: trained.key?.data };
    const summary =
      `seed ${seed}: project iterations ${a.iteration} → ${b.iteration}, ` + 'bisecting until line-connected';
    const r = oneActivity
      ? await segmentInOneActivity(segment, summary)
      : await executeChild(pathSegmentWorkflow, {
          workflowId: segmentWorkflowId(workflowInfo().workflowId, a.iteration, b.iteration),
          taskQueue: run.taskQueues.cpu,
          args: [segment],
          staticSummary: summary,
        });
    projected.step++;
    projected.numericsMs! += totalMs(r.computeMs);
    showProgress(progress, `seed ${seed}`);
    return r;
  });
  const points: Array<PathPoint<StateRef, Minimum>> = [];
  segments.forEach((s, i) => {
    // Consecutive segments share an epoch-boundary point: the next segment's copy carries the
    // check of the segment that starts there.
    if (i > 0) points.pop();
    points.push(...s.points);
    addInto(counts, s.counts);
    addInto(computeMs, s.computeMs);
    s.backends.forEach((b) => backends.add(b));
    stats.maxDepth = Math.max(stats.maxDepth, s.path.maxDepth);
    stats.connectedPairs += s.path.connectedPairs;
    stats.unconnectedPairs += s.path.unconnected.length;
    stats.unconnectedAfterSettle += s.path.unconnected.filter((u) => u.from >= settled).length;
    stats.unconnected.push(...s.path.unconnected.slice(0, MAX_LISTED - stats.unconnected.length));
  });
  stats.points = points.length;
  stats.pairsAfterSettle = points.slice(0, -1).filter((pt) => pt.iteration >= settled).length;
  stats.unreached = points.filter((pt) => !pt.minimum.reached).length;

  const chunks = Array.from({ length: Math.ceil(points.length / TRACE_CHUNK) }, (_, c) => c);
  const tracing = (progress[`trace (chunks of ${TRACE_CHUNK} points)`] = {
    step: 0,
    of: chunks.length,
    numericsMs: 0,
  });
  const traced = await windowed(chunks, async (chunk) => {
    const r = await executeChild(pathTraceWorkflow, {
      workflowId: traceWorkflowId(workflowInfo().workflowId, chunk),
      taskQueue: run.taskQueues.cpu,
      staticSummary:
        `seed ${seed}: Hessian trace at path points ` +
        `${chunk * TRACE_CHUNK}..${Math.min(points.length, (chunk + 1) * TRACE_CHUNK) - 1}`,
      args: [
        {
          run,
          seed,
          chunk,
          offset: chunk * TRACE_CHUNK,
          total: points.length,
          stepsPerEpoch: trained.stepsPerEpoch,
          backend: trained.backend,
          threshold,
          data: trained.key?.data,
          points: points.slice(chunk * TRACE_CHUNK, (chunk + 1) * TRACE_CHUNK),
        },
      ],
    });
    tracing.step++;
    tracing.numericsMs! += r.computeMs;
    showProgress(progress, `seed ${seed}`);
    return r;
  });
  for (const c of traced) {
    counts.cacheHits += c.cacheHits;
    computeMs.trace += c.computeMs;
    c.backends.forEach((b) => backends.add(b));
  }
  stats.backends = [...backends].sort();
  return { seed, points: points.length, counts, computeMs, stats };
}

export interface PathTraceInput {
  run: RunInput<PathParams>;
  seed: number;
  chunk: number;
  /**
   * Index of `points[0]` in the seed's path, and the path's length
   * (the stride counts from 0; the last point is always traced).
   */
  offset: number;
  total: number;
  stepsPerEpoch: number;
  /** The backend the seed's trajectory is keyed by (cached estimates are looked up under it). */
  backend: string;
  /** The seed's threshold (absent in histories from before `auto`: the run's fixed one). */
  threshold?: number;
  /** The content hash of the data the seed trained on (absent in older histories). */
  data?: string;
  points: Array<PathPoint<StateRef, Minimum>>;
}

/** Trace estimates for one chunk of a seed's path (cached ones looked up in one call); the rows go to S3. */
export async function pathTraceWorkflow(
  input: PathTraceInput,
): Promise<{ cacheHits: number; computeMs: number; backends: string[] }> {
  const { run, seed } = input;
  const p = run.params;
  const parts = partsOf(p, input);
  const { cpu } = activities(run);
  const wanted = input.points.map(
    (_, i) => (input.offset + i) % p.traceStride === 0 || input.offset + i === input.total - 1,
  );
  const minima = input.points.filter((_, i) => wanted[i]).map((pt) => pt.minimum.minimum);
  const cached = run.noCache ? [] : await cpu.lookupTraces({ parts, backend: input.backend, minima, probeSeed: seed });
  const cachedAt = new Map<number, TraceEstimate | null>();
  let j = 0;
  input.points.forEach((_, i) => {
    if (wanted[i]) cachedAt.set(i, cached[j++] ?? null);
  });
  let cacheHits = 0,
    computeMs = 0;
  const backends = new Set<string>();
  if (cached.some((c) => c)) backends.add(input.backend);
  // The estimates not in the cache, computed in batches (one activity each), or, in histories from
  // before the patch, one activity per point below.
  const computed = new Map<number, TraceEstimate>();
  if (patched(TRACES_IN_BATCHES)) {
    const missing = input.points.map((_, i) => i).filter((i) => wanted[i] && !cachedAt.get(i));
    const batches = Array.from({ length: Math.ceil(missing.length / TRACE_BATCH) }, (_, k) =>
      missing.slice(k * TRACE_BATCH, (k + 1) * TRACE_BATCH),
    );
    await windowed(batches, async (batch) => {
      const [first, last] = [input.points[batch[0]!]!.iteration, input.points[batch.at(-1)!]!.iteration];
      const summary = `trace at ${batch.length} path points, iterations ${first}..${last}, seed ${seed}`;
      const r = await untilDone(
        () =>
          activities(run, summary).gpu.estimateTraces({
            parts,
            minima: batch.map((i) => input.points[i]!.minimum.minimum),
            probeSeed: seed,
            noCache: run.noCache ?? false,
          }),
        answered,
        (r) => (computeMs += r.computeMs),
      );
      cacheHits += r.cacheHits;
      r.backends.forEach((b) => backends.add(b));
      batch.forEach((i, k) => computed.set(i, r.estimates[k]!));
    });
  }
  const rows = await windowed(input.points, async (pt, i): Promise<PathRow> => {
    let estimate: TraceEstimate | null = null;
    if (wanted[i]) {
      estimate = cachedAt.get(i) ?? null;
      if (estimate) cacheHits++;
      else if (computed.has(i)) estimate = computed.get(i)!;
      else {
        const summary = `trace at iteration ${pt.iteration}, seed ${seed}`;
        const t = await untilDone(
          () =>
            activities(run, summary).gpu.estimateTrace({
              parts,
              minimum: pt.minimum.minimum,
              probeSeed: seed,
              noCache: run.noCache ?? false,
            }),
          answered,
          (r) => (computeMs += r.computeMs),
        );
        if (t.cacheHit) cacheHits++;
        backends.add(t.backend);
        estimate = t.value;
      }
    }
    return {
      seed,
      iteration: pt.iteration,
      epoch: pt.iteration / input.stepsPerEpoch,
      trainLoss: pt.minimum.trainLoss,
      valLoss: pt.minimum.valLoss,
      trace: estimate?.trace ?? null,
      traceStderr: estimate?.stderr ?? null,
      depth: pt.depth,
      gdSteps: pt.minimum.gdSteps,
      reached: pt.minimum.reached,
      threshold: parts.line.threshold,
      barrier: pt.nextMaxLoss === undefined ? null : pt.nextMaxLoss - parts.line.threshold,
    };
  });
  const inputs = { experiment: run.experiment, params: run.params, seed: run.seed };
  await cpu.storePathRows({ runId: run.runId, seed, chunk: input.chunk, rows, run: inputs });
  return { cacheHits, computeMs, backends: [...backends] };
}

export interface PathSegmentInput {
  run: RunInput<PathParams>;
  seed: number;
  a: StateRef;
  b: StateRef;
  /** The backend the seed's trajectory is keyed by (the cached bisection is looked up under it). */
  backend: string;
  /** The seed's threshold (absent in histories from before `auto`: the run's fixed one). */
  threshold?: number;
  /** The content hash of the data the seed trained on (absent in older histories). */
  data?: string;
}

export interface PathSegmentResult {
  points: Array<PathPoint<StateRef, Minimum>>;
  counts: PathCountsTotal;
  /** Connected and unconnected pairs and bisection depth of this epoch pair. */
  path: PathCounts;
  computeMs: StageComputeMs;
  backends: string[];
}

/** Bisection between two consecutive epoch states until consecutive minima are line-connected. */
export async function pathSegmentWorkflow(input: PathSegmentInput): Promise<PathSegmentResult> {
  const { run, seed, a, b } = input;
  const p = run.params;
  const parts = partsOf(p, input);
  const { cpu } = activities(run);
  const noCache = run.noCache ?? false;
  const computeMs = zeroCompute();
  // A re-run finds the whole bisection in one lookup; its stages all count as cache hits.
  const known = noCache ? null : await cpu.lookupSegment({ parts, backend: input.backend, seed, a, b });
  if (known) {
    const { projections, replays, lineChecks } = known.counts;
    const counts = { trainSteps: 0, projections, replays, lineChecks, cacheHits: projections + replays + lineChecks };
    return { points: known.points, counts, path: known.counts, computeMs, backends: known.backends };
  }
  let cacheHits = 0;
  const backends = new Set<string>();
  const note = <T>(r: { cacheHit: boolean; backend: string; value: T }): T => {
    if (r.cacheHit) cacheHits++;
    backends.add(r.backend);
    return r.value;
  };
  const oracle: PathOracle<StateRef, Minimum> = {
    async replay(from, to) {
      const r = await activities(run, `replay seed ${seed} from iteration ${from.iteration} to ${to}`).gpu.replayState({
        runId: run.runId,
        seed,
        parts,
        from: from.state,
        toIteration: to,
        checkpointEvery: p.checkpointEvery,
        noCache,
      });
      computeMs.replay += r.computeMs;
      return note(r);
    },
    async project(state) {
      // A stopping worker hands a projection back half done (checkpointed); ask again, no retry spent.
      const summary = `project iteration ${state.iteration}, seed ${seed}`;
      const r = await untilDone(
        () => activities(run, summary).gpu.projectState({ runId: run.runId, parts, state, noCache }),
        answered,
        (r) => (computeMs.project += r.computeMs),
      );
      return note(r);
    },
    async connected(a, b) {
      const r = await activities(
        run,
        `line check ${a.minimum.iteration} → ${b.minimum.iteration}, seed ${seed}`,
      ).gpu.checkConnected({ parts, a: a.minimum, b: b.minimum, noCache });
      computeMs.line += r.computeMs;
      return note(r);
    },
  };
  const { path, counts } = await projectedPath(
    oracle,
    [
      { iteration: a.iteration, state: a },
      { iteration: b.iteration, state: b },
    ],
    { window: WINDOW },
  );
  const answer = { points: path, counts, backends: [...backends].sort() };
  await cpu.storeSegment({ parts, backend: input.backend, seed, a, b, answer });
  const { projections, replays, lineChecks } = counts;
  return {
    points: path,
    counts: { trainSteps: 0, projections, replays, lineChecks, cacheHits },
    path: counts,
    computeMs,
    backends: answer.backends,
  };
}

/** An epoch pair's bisection in one gpu activity (its stages one after the other on one worker). */
async function segmentInOneActivity(input: PathSegmentInput, summary: string): Promise<PathSegmentResult> {
  const { run, seed, a, b } = input;
  const p = run.params;
  const parts = partsOf(p, input);
  const computeMs = zeroCompute();
  const r = await untilDone(
    () =>
      activities(run, summary).gpu.bisectSegment({
        runId: run.runId,
        seed,
        parts,
        a,
        b,
        backend: input.backend,
        checkpointEvery: p.checkpointEvery,
        noCache: run.noCache ?? false,
      }),
    answered,
    (r) => addInto(computeMs, r.computeMs),
  );
  const { projections, replays, lineChecks } = r.counts;
  // A re-run finds the whole bisection in one lookup; its stages all count as cache hits.
  const cacheHits = r.cacheHit ? projections + replays + lineChecks : r.stageCacheHits;
  return {
    points: r.points,
    counts: { trainSteps: 0, projections, replays, lineChecks, cacheHits },
    path: r.counts,
    computeMs,
    backends: r.backends,
  };
}
