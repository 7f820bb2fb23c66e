/** What every experiment workflow receives from `repro run`. */
export interface RunInput {
  runId: string;
  experiment: string;
  preset: string;
  /** Resolved parameters (defaults, preset, `--set`). */
  params: Record<string, unknown>;
  seed: number;
  /** Task queues and timeouts from the client's config: workflows cannot read config. */
  taskQueues: { cpu: string; gpu: string };
  timeouts: { heartbeatMs: number; activityStartToCloseMs: number };
  /** History length after which long workflows continue as new (absent: 10,000). */
  continueAsNewEvents?: number;
  /** Recompute every cached stage (`repro run --no-cache`). */
  noCache?: boolean;
}

/** Workflow id of a run: hierarchical so that children read as `run/<id>/...`. */
export function runWorkflowId(runId: string): string {
  return `run/${runId}`;
}

/**
 * The workflow id a schedule gives its runs' action; Temporal appends `-<RFC 3339 time>` to it
 * for each run, so a scheduled run's id is `sched-<schedule>-<time>`.
 */
export function scheduledRunWorkflowId(scheduleId: string): string {
  return runWorkflowId(`sched-${scheduleId}`);
}

/** The schedule that started a run, read from its id, or undefined for a run started by hand. */
export function scheduleOfRun(runId: string): string | undefined {
  return /^sched-(.+)-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.exec(runId)?.[1];
}

/** A run's id: the one `repro run` chose, or, for a scheduled run (one fixed input for all), its workflow id's. */
export function runIdOf(input: RunInput, workflowId: string): string {
  return input.runId || workflowId.replace(/^run\//, '');
}
