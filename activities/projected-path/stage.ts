/**
 * What the projected-path stages share: their answers' shapes, their cache keys, and a runner
 * that computes a stage under its content key on this worker's backend. Answers live under
 * `cache/<kind>/<key>/`; work in progress (a projection's GD, a replay) is checkpointed so a
 * killed attempt loses at most one interval, under `cache/` or, with `--no-cache`, under the run's
 * own prefix so nothing is resumed from another run.
 */
import { Context } from '@temporalio/activity';
import { stageIdentity, type PathParts, type PathStage } from '../../src/experiments/projected-path/parts';
import type { LoadedCheckpoint, SkippedCheckpoint } from '../../src/checkpoint/checkpoint-store';
import { layout } from '../../src/storage/layout';
import type { ActivityDeps } from '../deps';
import { cachedStage, isPreempted, Stopwatch, type Preempted, type WriteBehind } from '../stage-cache';
import type { PathWorkspace, StateRef } from './workspace';

/** Every stage answer says whether it came from the cache, how long its numerics took and what ran them. */
export interface Staged<T> {
  value: T;
  cacheHit: boolean;
  /** Milliseconds in numerics (0 on a cache hit). */
  computeMs: number;
  /** The numeric backend that computed the value (the one its cache key names). */
  backend: string;
}

export type MaybePreempted<T> = Staged<T> | (Preempted & { computeMs: number });

export interface Minimum {
  minimum: StateRef;
  trainLoss: number;
  valLoss: number;
  gdSteps: number;
  /** The projection got below its target (threshold − margin) within the step cap. */
  reached: boolean;
}

export interface TraceEstimate {
  trace: number;
  stderr: number;
  hvps: number;
}

/** What a stage's cache key hashes (see {@link stageIdentity}). */
export function stageKeyInputs(
  stage: PathStage,
  parts: PathParts,
  inputs: Record<string, unknown>,
  code: string,
  backend: string,
): unknown {
  return stageIdentity(stage, parts, inputs, { code, backend });
}

/** What names a trace estimate besides its parts (shared by the stage and the batched lookup). */
export const traceInputs = (minimum: StateRef, probeSeed: number): Record<string, unknown> => ({
  minimum: minimum.sha256,
  probeSeed,
});

/** What names a whole bisection between two SGD states besides its parts. */
export const segmentInputs = (seed: number, a: StateRef, b: StateRef): Record<string, unknown> => ({
  a: a.sha256,
  b: b.sha256,
  seed,
});

/** How a stage runs inside a bigger activity (bisectSegment, estimateTraces); absent when it is one. */
export interface StageOptions {
  /** Queue the stage's commits here instead of waiting for them. */
  behind?: WriteBehind;
}

/** The tools every stage activity uses: its context, its work-in-progress folders, its cache. */
export class StageKit {
  constructor(
    readonly deps: ActivityDeps,
    readonly ws: PathWorkspace,
  ) {}

  heartbeat(details: unknown): void {
    Context.current().heartbeat(details);
  }

  /** The run was cancelled (not the worker stopping). */
  cancelled(): boolean {
    return Context.current().cancellationSignal.aborted;
  }

  /** The worker is stopping or the run was cancelled: commit and leave. */
  stopping(): boolean {
    return this.deps.stopping.aborted || this.cancelled();
  }

  /** Where a stage's work in progress is checkpointed. */
  progressRoot(kind: string, key: string, runId: string, noCache: boolean): string {
    return noCache ? layout.runWork(runId, kind, key) : layout.cacheFolder(kind, key);
  }

  /**
   * A work-in-progress folder: the newest good checkpoint to resume from, and `written`, true
   * while the folder may hold anything (a former attempt's objects, or once `wrote()` is called).
   */
  async workInProgress(
    root: string,
    onSkip: (s: SkippedCheckpoint) => void,
    maxStep?: number,
  ): Promise<{ saved: LoadedCheckpoint | undefined; written: boolean }> {
    const listed = await this.ws.store.list(root);
    const saved = listed.length ? await this.ws.checkpoints.loadLatest(root, onSkip, maxStep, listed) : undefined;
    return { saved, written: listed.length > 0 };
  }

  /** Delete a work-in-progress folder once its answer is committed (one that was never written needs nothing). */
  async clear(root: string, written = true): Promise<void> {
    if (!written) return;
    for (const k of await this.ws.store.list(root)) await this.ws.store.delete(k);
  }

  /** Logs a checkpoint that did not verify and was skipped. */
  skipped(runId: string | undefined, stage: string) {
    return (s: { manifestKey: string; reason: string }): void =>
      this.deps.log({ event: 'checkpoint-skipped', runId, stage, ...s });
  }

  /**
   * Run `compute` under the stage's cache key on this worker's backend for the model; with
   * `behind`, the answer's write is queued there (the caller flushes it before it answers).
   */
  async stage<T>(
    kind: PathStage,
    parts: PathParts,
    inputs: Record<string, unknown>,
    noCache: boolean,
    compute: (key: string, sw: Stopwatch) => Promise<T | Preempted>,
    behind?: WriteBehind,
  ): Promise<MaybePreempted<T>> {
    const backend = await this.ws.backend();
    const sw = new Stopwatch();
    // Keys name the data by content: the hash this worker computes, checked against the run's.
    const identity = stageKeyInputs(kind, await this.ws.withDataHash(parts), inputs, this.deps.codeVersion, backend);
    // A heartbeat every quarter second while it computes: the numerics yield between chunks of
    // the data (a full-batch gradient can take longer than the heartbeat timeout), so they get out.
    const ticker = setInterval(() => this.heartbeat({ stage: kind }), 250);
    let r;
    try {
      r = await cachedStage<T>(this.ws.store, kind, identity, !noCache, (key) => compute(key, sw), behind);
    } finally {
      clearInterval(ticker);
    }
    return isPreempted(r)
      ? { preempted: true, computeMs: sw.ms }
      : { value: r.value, cacheHit: r.hit, computeMs: sw.ms, backend };
  }
}
