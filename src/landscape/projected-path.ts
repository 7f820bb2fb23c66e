/**
 * The projection procedure (EXPERIMENTS.md, section 2.1.1) as a pure algorithm over an oracle,
 * so the same recursion runs in-process (tests, small models) and as Temporal child workflows
 * (the oracle's calls become activities):
 *
 *   for consecutive SGD states A, B (n iterations apart): project both; if their minima are not
 *   line-connected, replay SGD from A for n/2 iterations to C, project C, and recurse on (A, C)
 *   and (C, B), until each pair is connected or no iteration lies between them.
 *
 * Independent halves are explored concurrently, with at most `window` oracle calls in flight.
 */

/** An SGD state at an iteration, as the oracle knows it (a checkpoint reference, a tensor...). */
export interface PathPoint<S, M> {
  iteration: number;
  state: S;
  minimum: M;
  /** Bisection depth that inserted the point: 0 for the given checkpoints (epoch boundaries). */
  depth: number;
  /**
   * The highest training loss on the segment from this minimum to the next one of the path, as its
   * final line check saw it (the segment's barrier is this minus the threshold); absent on the last.
   */
  nextMaxLoss?: number;
}

/** The outcome of a line-connectedness check. */
export interface LineCheck {
  connected: boolean;
  /** Highest training loss seen on the segment. */
  maxLoss: number;
}

export interface PathOracle<S, M> {
  /** The SGD state at `toIteration`, replayed from `from` (deterministically: same batches and noise). */
  replay(from: { iteration: number; state: S }, toIteration: number): Promise<S>;
  /** Full-batch GD from the state to a minimum. */
  project(state: S, iteration: number): Promise<M>;
  /** Line-connectedness of two minima (loss below the threshold at every evaluated point). */
  connected(a: M, b: M): Promise<LineCheck>;
}

/** Two consecutive path points left unconnected: adjacent iterations, nothing left to bisect. */
export interface UnconnectedPair {
  from: number;
  to: number;
  maxLoss: number;
}

export interface PathCounts {
  projections: number;
  replays: number;
  lineChecks: number;
  /** Consecutive path points whose segment passed the line check. */
  connectedPairs: number;
  /** Consecutive path points that are not line-connected (the path is broken there). */
  unconnected: UnconnectedPair[];
  /** Deepest bisection level reached (0: every epoch pair was connected). */
  maxDepth: number;
}

/** Most oracle calls in flight at once: the README's promise, and Temporal's fan-out bound. */
export const DEFAULT_WINDOW = 16;

/** Runs at most `size` tasks at once, in the order they were asked for (deterministic). */
function limiter(size: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/**
 * The projected path through `checkpoints` (ordered SGD states, e.g. epoch boundaries): the
 * ordered minima, including the ones found by bisection, and what it took.
 */
export async function projectedPath<S, M>(
  oracle: PathOracle<S, M>,
  checkpoints: Array<{ iteration: number; state: S }>,
  opts: { window?: number } = {},
): Promise<{ path: Array<PathPoint<S, M>>; counts: PathCounts }> {
  const limit = limiter(opts.window ?? DEFAULT_WINDOW);
  const counts: PathCounts = {
    projections: 0,
    replays: 0,
    lineChecks: 0,
    connectedPairs: 0,
    unconnected: [],
    maxDepth: 0,
  };
  const project = async (p: { iteration: number; state: S }, depth: number): Promise<PathPoint<S, M>> => {
    counts.projections++;
    counts.maxDepth = Math.max(counts.maxDepth, depth);
    return { ...p, depth, minimum: await limit(() => oracle.project(p.state, p.iteration)) };
  };
  const ends = await Promise.all(checkpoints.map((c) => project(c, 0)));
  // The line check that settled each final segment, by its first iteration.
  const settled = new Map<number, number>();
  const between = async (a: PathPoint<S, M>, b: PathPoint<S, M>, depth: number): Promise<Array<PathPoint<S, M>>> => {
    counts.lineChecks++;
    const check = await limit(() => oracle.connected(a.minimum, b.minimum));
    if (check.connected) {
      counts.connectedPairs++;
      settled.set(a.iteration, check.maxLoss);
      return [];
    }
    const mid = a.iteration + Math.floor((b.iteration - a.iteration) / 2);
    if (mid <= a.iteration) {
      counts.unconnected.push({ from: a.iteration, to: b.iteration, maxLoss: check.maxLoss });
      settled.set(a.iteration, check.maxLoss);
      return [];
    }
    counts.replays++;
    const replayed = await limit(() => oracle.replay(a, mid));
    const c = await project({ iteration: mid, state: replayed }, depth + 1);
    const [left, right] = await Promise.all([between(a, c, depth + 1), between(c, b, depth + 1)]);
    return [...left, c, ...right];
  };
  const inner = await Promise.all(ends.slice(1).map((b, i) => between(ends[i]!, b, 0)));
  const path: Array<PathPoint<S, M>> = [ends[0]!];
  inner.forEach((points, i) => path.push(...points, ends[i + 1]!));
  counts.unconnected.sort((x, y) => x.from - y.from);
  const withSegments = path.map((p, i) =>
    i < path.length - 1 && settled.has(p.iteration) ? { ...p, nextMaxLoss: settled.get(p.iteration)! } : p,
  );
  return { path: withSegments, counts };
}
