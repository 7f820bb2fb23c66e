/**
 * Run and workflow ids, one owner. A run's workflow id is `run/<id>`, its children's hang below
 * it (`run/<id>/seed/<n>/projection/<a>-<b>`), and a scheduled run's id is
 * `sched-<schedule>-<RFC 3339 time>` (Temporal appends the time to the schedule action's id).
 */

const PREFIX = 'run/';

/** An id a user gave that is not a run or schedule id; a usage mistake (exit status 2). */
export class IdError extends Error {
  override name = 'IdError';
}

/** The alphabet of the ids a user chooses: safe in workflow ids, S3 keys and folder names. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Longest run id; a schedule id leaves room for `sched-` and the 21 characters of `-<time>`. */
export const MAX_RUN_ID = 128;
export const MAX_SCHEDULE_ID = MAX_RUN_ID - 'sched-'.length - '-2026-11-27T03:00:00Z'.length;
/** The rule in words, for messages and the README. */
export const ID_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit, without '..'";

/** A value as a message may show it: quoted, control characters escaped, long ones cut. */
function shown(v: string): string {
  const cut = v.length > 60 ? `${v.slice(0, 60)}…` : v;
  return JSON.stringify(cut).slice(1, -1) === cut ? `'${cut}'` : JSON.stringify(cut);
}

function safeId(id: string, max: number): boolean {
  return id.length <= max && SAFE_ID.test(id) && !id.includes('..');
}

/**
 * A run id a user chooses (`repro run --id`): 1 to {@link MAX_RUN_ID} characters of
 * {@link ID_RULE}. Returns it; throws {@link IdError} naming the flag and the rule.
 */
export function checkNewRunId(id: string, flag = '--id'): string {
  if (safeId(id, MAX_RUN_ID)) return id;
  throw new IdError(`${flag} ${shown(id)}: a run id is 1 to ${MAX_RUN_ID} ${ID_RULE} (e.g. ${flag} fig7-try2)`);
}

/** A schedule id (`schedule create --id`, or the one the other schedule actions name). */
export function checkScheduleId(id: string, what = 'schedule id'): string {
  if (safeId(id, MAX_SCHEDULE_ID)) return id;
  throw new IdError(
    `${what} ${shown(id)}: a schedule id is 1 to ${MAX_SCHEDULE_ID} ${ID_RULE} ` +
      '(`repro schedule list` shows the schedules)',
  );
}

/**
 * The run id a user names (status, cancel, resume, results, report, export): one
 * {@link checkNewRunId} accepts, or a scheduled run's `sched-<schedule>-<RFC 3339 time>`, also as
 * its workflow id `run/<id>` (the Web UI shows that). Checked before anything connects, so a
 * mistyped id is refused even when the servers are down; returns the run id.
 */
export function checkRunId(id: string): string {
  const runId = runIdOfWorkflow(id);
  const schedule = scheduleOfRun(runId);
  if (safeId(runId, MAX_RUN_ID) || (schedule !== undefined && safeId(schedule, MAX_SCHEDULE_ID))) return runId;
  throw new IdError(
    `run id ${shown(id)} is not one: run ids are 1 to ${MAX_RUN_ID} ${ID_RULE}; \`repro list\` shows the runs`,
  );
}

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

/** The time a schedule started a run for (RFC 3339, from its id), or undefined for a run started by hand. */
export function scheduledTimeOfRun(runId: string): string | undefined {
  return /^sched-.+-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$/.exec(runId)?.[1];
}
