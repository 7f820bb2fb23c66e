/**
 * Marks of a run's progress: `[epoch milliseconds, step]`, when a part's step changed (workflow time
 * in a workflow, the worker's clock in a study unit's heartbeat). A part carries its latest marks,
 * so that one snapshot gives its rate over a window (infra/cli/eta.ts `etasFromMarks`).
 */
export type Mark = [number, number];

/** Marks kept per part: the live view's 90 s window at one change a second or slower. */
export const MARKS_KEPT = 32;

/** Append `[now, step]` unless the step is the last one marked; keep the latest {@link MARKS_KEPT}. */
export function pushMark(marks: Mark[], now: number, step: number): void {
  if (marks.length && marks.at(-1)![1] === step) return;
  marks.push([now, step]);
  if (marks.length > MARKS_KEPT) marks.splice(0, marks.length - MARKS_KEPT);
}
