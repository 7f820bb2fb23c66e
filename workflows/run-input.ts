import type { Params } from '../src/experiments/params';
import { runIdOfWorkflow } from '../src/runs/ids';

/** What every experiment workflow receives from `repro run`, typed by the experiment's parameters. */
export interface RunInput<P = Params> {
  runId: string;
  experiment: string;
  preset: string;
  /** Resolved parameters (defaults, preset, `--set`). */
  params: P;
  seed: number;
  /** Task queues and timeouts from the client's config: workflows cannot read config. */
  taskQueues: { cpu: string; gpu: string };
  timeouts: { heartbeatMs: number; activityStartToCloseMs: number };
  /** History length after which long workflows continue as new (absent: 10,000). */
  continueAsNewEvents?: number;
  /** Recompute every cached stage (`repro run --no-cache`). */
  noCache?: boolean;
}

/** A run's id: the one `repro run` chose, or, for a scheduled run (one fixed input for all), its workflow id's. */
export function runIdOf(input: RunInput<unknown>, workflowId: string): string {
  return input.runId || runIdOfWorkflow(workflowId);
}
