/**
 * Activity inputs and results. Payloads carry references and small numbers, never tensors:
 * Temporal keeps every argument in history and rejects payloads over 2 MB.
 */
import type { Fig7Params, Variant } from '../src/experiments/fig7/toy';

/** Advance one fig7 trajectory to `untilStep`, resuming from its latest valid checkpoint. */
export interface AdvanceToyTrajectoryInput {
  runId: string;
  variant: Variant;
  params: Fig7Params;
  seed: number;
  untilStep: number;
}

export interface AdvanceToyTrajectoryResult {
  /** Step the trajectory stands at, committed in `checkpointKey`. */
  step: number;
  checkpointKey: string;
  sha256: string;
  /** Step this attempt resumed from (0 for a fresh start). */
  resumedFrom: number;
  /** True when the worker was stopping: the workflow schedules the rest again. */
  preempted: boolean;
}

export interface SummarizeFig7Input {
  runId: string;
  experiment: string;
  preset: string;
  params: Fig7Params;
  seed: number;
}
