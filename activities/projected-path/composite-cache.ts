import type { PathParts } from '../../src/experiments/projected-path/parts';
import type { PathCounts, PathPoint } from '../../src/landscape/projected-path';
import type { ActivityDeps } from '../deps';
import { readCached, writeCached } from '../stage-cache';
import { segmentInputs, stageKeyInputs, traceInputs, type Minimum, type TraceEstimate } from './stage';
import type { StateRef } from './workspace';

/** A finished bisection between two epoch states, as cached, with the backends that computed it. */
export interface SegmentAnswer {
  points: Array<PathPoint<StateRef, Minimum>>;
  counts: PathCounts;
  backends: string[];
}

interface CompositeInput {
  parts: PathParts;
  /** The backend the seed's trajectory is keyed by (its training's): composite entries are keyed by it. */
  backend: string;
}

/**
 * Caches over groups of stages, so that a re-run costs one lookup per epoch pair and per trace
 * chunk instead of one activity per projection, replay, line check and estimate (a paper-scale
 * path has ~4,000 of each per seed). Each entry is keyed like the stages it stands for; they
 * run on the cpu queue, so the backend comes from the workflow, not from this worker.
 */
export function makeCompositeCache(deps: ActivityDeps) {
  const segmentKey = (i: CompositeInput & { seed: number; a: StateRef; b: StateRef }): unknown =>
    stageKeyInputs('segment', i.parts, segmentInputs(i.seed, i.a, i.b), deps.codeVersion, i.backend);
  return {
    /** The cached bisection between `a` and `b`, or null. */
    async lookupSegment(
      input: CompositeInput & { seed: number; a: StateRef; b: StateRef },
    ): Promise<SegmentAnswer | null> {
      return (await readCached<SegmentAnswer>(deps.store, 'segment', segmentKey(input))) ?? null;
    },

    async storeSegment(
      input: CompositeInput & { seed: number; a: StateRef; b: StateRef; answer: SegmentAnswer },
    ): Promise<void> {
      await writeCached(deps.store, 'segment', segmentKey(input), input.answer);
    },

    /** Cached trace estimates for many minima at once (null where not cached), in order. */
    async lookupTraces(
      input: CompositeInput & { minima: StateRef[]; probeSeed: number },
    ): Promise<Array<TraceEstimate | null>> {
      return Promise.all(
        input.minima.map(
          async (m) =>
            (await readCached<TraceEstimate>(
              deps.store,
              'trace',
              stageKeyInputs('trace', input.parts, traceInputs(m, input.probeSeed), deps.codeVersion, input.backend),
            )) ?? null,
        ),
      );
    },
  };
}
