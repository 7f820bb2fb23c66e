/**
 * What a projected path is made of, as the engine's workflows, activities and analysis share it.
 * A path's rows go to S3 in chunks (`layout.pathRows`) rather than through workflow payloads: a
 * paper-scale run has 10 seeds × ~4000 points, far over Temporal's 2 MB payload limit.
 */
import type { UnconnectedPair } from '../../landscape/projected-path';

/** One projected point of one seed's path. */
export interface PathRow {
  seed: number;
  iteration: number;
  epoch: number;
  trainLoss: number;
  valLoss: number;
  trace: number | null;
  traceStderr: number | null;
  /** Bisection depth that inserted the point (0: an epoch boundary). */
  depth: number;
  /** Full-batch GD steps its projection took (absent in older rows). */
  gdSteps?: number;
  /** Whether the projection got below its target within the step cap (absent in older rows). */
  reached?: boolean;
  /** The seed's threshold: its own minimal SGD training loss, or the run's fixed one (absent in older rows). */
  threshold?: number;
  /**
   * The barrier of the segment to the next point: the highest training loss on it minus the threshold
   * (negative: the segment stays inside the sublevel set); null on the seed's last point.
   */
  barrier?: number | null;
}

/** What one seed's projected path is made of, and where it is broken. */
export interface SeedPathStats {
  seed: number;
  points: number;
  maxDepth: number;
  /** Consecutive minima whose segment passed the line check. */
  connectedPairs: number;
  /** Consecutive minima left unconnected (adjacent iterations whose segment crosses the threshold). */
  unconnectedPairs: number;
  /** Of those, the ones from `settleEpochs` on: what the path-connected claim counts. */
  unconnectedAfterSettle: number;
  /** Consecutive pairs from `settleEpochs` on, connected or not. */
  pairsAfterSettle: number;
  /** The first unconnected pairs (at most {@link MAX_LISTED}), with the highest loss on each segment. */
  unconnected: UnconnectedPair[];
  /** Projections that did not get below their target within the step cap. */
  unreached: number;
  /** Numeric backends that ran this seed's stages. */
  backends: string[];
  /** The seed's threshold: its own minimal SGD training loss (`auto`), or the run's fixed one. */
  threshold?: number;
}

/** Unconnected pairs listed per seed (all are counted); keeps payloads small on a broken paper-scale path. */
export const MAX_LISTED = 20;

/** What a run did, stage by stage. */
export interface PathCountsTotal {
  trainSteps: number;
  projections: number;
  replays: number;
  lineChecks: number;
  cacheHits: number;
}

/** Milliseconds spent in numerics, by stage (cache hits cost none). */
export interface StageComputeMs {
  train: number;
  project: number;
  replay: number;
  line: number;
  trace: number;
}

export const zeroCounts = (): PathCountsTotal => ({
  trainSteps: 0,
  projections: 0,
  replays: 0,
  lineChecks: 0,
  cacheHits: 0,
});
export const zeroCompute = (): StageComputeMs => ({ train: 0, project: 0, replay: 0, line: 0, trace: 0 });

/** Milliseconds of numerics over all stages. */
export const totalMs = (c: StageComputeMs): number => Object.values(c).reduce((a: number, b: number) => a + b, 0);

/** Add `b` into `a` field by field (counts and stage times alike). */
export function addInto<T extends object>(a: T, b: T): T {
  for (const k of Object.keys(a) as Array<keyof T>) (a[k] as number) += b[k] as number;
  return a;
}
