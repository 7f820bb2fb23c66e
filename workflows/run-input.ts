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
