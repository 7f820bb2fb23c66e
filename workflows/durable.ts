/**
 * The durable resume loop every runtime uses: an activity that finds its worker stopping commits
 * where it stands and answers early (`preempted`, or a unit not yet done), no retry spent; ask
 * again, on any worker, until it answers for good. `each` sees every answer (progress, time).
 */
export async function untilDone<R, D extends R>(
  ask: () => Promise<R>,
  done: (r: R) => r is D,
  each?: (r: R) => void,
): Promise<D>;
export async function untilDone<R>(ask: () => Promise<R>, done: (r: R) => boolean, each?: (r: R) => void): Promise<R>;
export async function untilDone<R>(
  ask: () => Promise<R>,
  done: (r: R) => boolean,
  each: (r: R) => void = () => {},
): Promise<R> {
  for (;;) {
    const r = await ask();
    each(r);
    if (done(r)) return r;
  }
}

/** An answer that is not a hand-back from a stopping worker. */
export const answered = <R extends object>(r: R): r is Exclude<R, { preempted: true }> => !('preempted' in r);
