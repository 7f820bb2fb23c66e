import { defineQuery } from '@temporalio/workflow';
import { pushMark, type Mark } from '../src/runs/progress-marks';

/**
 * How far each part of a run has come; `repro status` prints it. `marks`: the latest changes of a
 * part's step with their times, so that one query gives rates over a window (infra/cli/eta.ts).
 * `numericsMs`: the numerics its finished activities took, where steps differ widely in cost (a
 * projected path's epoch pairs: a bisected one costs up to 50 times a connected one), so that an
 * ETA can count work done in seconds of numerics instead of steps.
 */
export type Progress = Record<string, { step: number; of: number; marks?: Mark[]; numericsMs?: number }>;

export const progressQuery = defineQuery<Progress>('progress');

/** Workflow ids of the children a run has started, so `repro status` can ask them too. */
export const childrenQuery = defineQuery<string[]>('children');

const history = new WeakMap<Progress, Map<string, Mark[]>>();

/**
 * Marks every part whose step changed since the last call, at `Date.now()` (in a workflow: the
 * time of the workflow task, deterministic; nothing enters the history).
 */
export function markProgress(progress: Progress): void {
  let h = history.get(progress);
  if (!h) history.set(progress, (h = new Map()));
  const now = Date.now();
  for (const [name, p] of Object.entries(progress)) {
    const m = h.get(name) ?? [];
    pushMark(m, now, p.step);
    h.set(name, m);
  }
}

/** The progress as the query answers it: each part with its marks. */
export function withMarks(progress: Progress): Progress {
  const h = history.get(progress);
  return Object.fromEntries(
    Object.entries(progress).map(([k, v]) => {
      const m = h?.get(k);
      return [k, m?.length ? { ...v, marks: [...m] } : v];
    }),
  );
}
