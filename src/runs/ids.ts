/**
 * Run and workflow ids, one owner. A run's workflow id is `run/<id>`, its children's hang below
 * it (`run/<id>/seed/<n>/projection/<a>-<b>`), and a scheduled run's id is
 * `sched-<schedule>-<RFC 3339 time>` (Temporal appends the time to the schedule action's id).
 */

const PREFIX = 'run/';

/** Workflow id of a run: hierarchical so that children read as `run/<id>/...`. */
export function runWorkflowId(runId: string): string {
  return `${PREFIX}${runId}`;
}

/** The run id of a run's workflow id (or of a run id given as is). */
export function runIdOfWorkflow(workflowId: string): string {
  return workflowId.startsWith(PREFIX) ? workflowId.slice(PREFIX.length) : workflowId;
}

/** True for a run's own workflow (`run/<id>`), not one of its children. */
export function isRunWorkflowId(workflowId: string): boolean {
  return workflowId.startsWith(PREFIX) && !workflowId.includes('/', PREFIX.length);
}

/** The visibility query that finds every run's workflow and its children. */
export const RUN_WORKFLOWS_QUERY = `WorkflowId STARTS_WITH "${PREFIX}"`;

/** A child workflow's id under its parent's. */
export const seedWorkflowId = (parent: string, seed: number): string => `${parent}/seed/${seed}`;
export const segmentWorkflowId = (seedWorkflow: string, a: number, b: number): string =>
  `${seedWorkflow}/projection/${a}-${b}`;
export const traceWorkflowId = (seedWorkflow: string, chunk: number): string => `${seedWorkflow}/trace/${chunk}`;

/**
 * The workflow id a schedule gives its runs' action; Temporal appends `-<RFC 3339 time>` to it
 * for each run, so a scheduled run's id is `sched-<schedule>-<time>`.
 */
export function scheduledRunWorkflowId(scheduleId: string): string {
  return runWorkflowId(`sched-${scheduleId}`);
}

/** The prefix of the run ids a schedule has started. */
export const scheduledRunsPrefix = (scheduleId: string): string => `sched-${scheduleId}-`;

/** The schedule that started a run, read from its id, or undefined for a run started by hand. */
export function scheduleOfRun(runId: string): string | undefined {
  return /^sched-(.+)-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.exec(runId)?.[1];
}
