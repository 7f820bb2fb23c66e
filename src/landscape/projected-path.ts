/**
 * The projection procedure (EXPERIMENTS.md, section 2.1.1) as a pure algorithm over an oracle,
 * so the same recursion runs in-process (tests, small models) and as Temporal child workflows
 * (the oracle's calls become activities):
 *
 *   for consecutive SGD states A, B (n iterations apart): project both; if their minima are not
 *   line-connected, replay SGD from A for n/2 iterations to C, project C, and recurse on (A, C)
 *   and (C, B), until each pair is connected or no iteration lies between them.
 */

/** An SGD state at an iteration, as the oracle knows it (a checkpoint reference, a tensor...). */
export interface PathPoint<S, M> {
  iteration: number;
  state: S;
  minimum: M;
}

export interface PathOracle<S, M> {
  /** The SGD state at `toIteration`, replayed from `from` (deterministically: same batches and noise). */
  replay(from: { iteration: number; state: S }, toIteration: number): Promise<S>;
  /** Full-batch GD from the state until the loss is below the threshold. */
  project(state: S, iteration: number): Promise<M>;
  /** Line-connectedness of two minima (loss below threshold at every evaluated point). */
  connected(a: M, b: M): Promise<boolean>;
}

export interface PathCounts {
  projections: number;
  replays: number;
  lineChecks: number;
  /** Pairs left unconnected because no iteration lies between them. */
  unresolved: number;
}

/**
 * The projected path through `checkpoints` (ordered SGD states, e.g. epoch boundaries): the
 * ordered minima, including the ones found by bisection. Independent halves are explored
 * concurrently.
 */
export async function projectedPath<S, M>(oracle: PathOracle<S, M>, checkpoints: Array<{ iteration: number; state: S }>): Promise<{ path: Array<PathPoint<S, M>>; counts: PathCounts }> {
  const counts: PathCounts = { projections: 0, replays: 0, lineChecks: 0, unresolved: 0 };
  const project = async (p: { iteration: number; state: S }): Promise<PathPoint<S, M>> => {
    counts.projections++;
    return { ...p, minimum: await oracle.project(p.state, p.iteration) };
  };
  const ends = await Promise.all(checkpoints.map(project));
  const between = async (a: PathPoint<S, M>, b: PathPoint<S, M>): Promise<Array<PathPoint<S, M>>> => {
    counts.lineChecks++;
    if (await oracle.connected(a.minimum, b.minimum)) return [];
    const mid = a.iteration + Math.floor((b.iteration - a.iteration) / 2);
    if (mid <= a.iteration) {
      counts.unresolved++;
      return [];
    }
    counts.replays++;
    const c = await project({ iteration: mid, state: await oracle.replay(a, mid) });
    const [left, right] = await Promise.all([between(a, c), between(c, b)]);
    return [...left, c, ...right];
  };
  const inner = await Promise.all(ends.slice(1).map((b, i) => between(ends[i]!, b)));
  const path: Array<PathPoint<S, M>> = [ends[0]!];
  inner.forEach((points, i) => path.push(...points, ends[i + 1]!));
  return { path, counts };
}
