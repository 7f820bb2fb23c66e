import type { PipelineParams } from '../../src/experiments/projected-path/definition';
import type { PathPoint } from '../../src/landscape/projected-path';
import type { ActivityDeps } from '../deps';
import { readCached, writeCached } from '../stage-cache';
import { segmentInputs, traceInputs, type Minimum } from './path-stages';
import type { StateRef } from './workspace';

/** A finished bisection between two epoch states, as cached. */
export interface SegmentAnswer {
  points: Array<PathPoint<StateRef, Minimum>>;
  counts: { projections: number; replays: number; lineChecks: number };
}

/**
 * Caches over groups of stages, so that a re-run costs one lookup per epoch pair and per trace
 * chunk instead of one activity per projection, replay, line check and estimate (a paper-scale
 * path has ~4,000 of each per seed). Each entry is keyed like the stages it stands for.
 */
export function makeCompositeCache(deps: ActivityDeps) {
  return {
    /** The cached bisection between `a` and `b`, or null. */
    async lookupSegment(input: { params: PipelineParams; seed: number; a: StateRef; b: StateRef }): Promise<SegmentAnswer | null> {
      return (await readCached<SegmentAnswer>(deps.store, 'segment', segmentInputs(input.params, input.seed, input.a, input.b, deps.codeVersion))) ?? null;
    },

    async storeSegment(input: { params: PipelineParams; seed: number; a: StateRef; b: StateRef; answer: SegmentAnswer }): Promise<void> {
      await writeCached(deps.store, 'segment', segmentInputs(input.params, input.seed, input.a, input.b, deps.codeVersion), input.answer);
    },

    /** Cached trace estimates for many minima at once (null where not cached), in order. */
    async lookupTraces(input: { params: PipelineParams; minima: StateRef[]; probeSeed: number }): Promise<Array<{ trace: number; stderr: number } | null>> {
      return Promise.all(input.minima.map(async (m) => (await readCached<{ trace: number; stderr: number }>(deps.store, 'trace', traceInputs(input.params, m.sha256, input.probeSeed, deps.codeVersion))) ?? null));
    },
  };
}
