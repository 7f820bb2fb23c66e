/**
 * What a finished run reports: the same object for `repro run --wait --json`,
 * `repro results --json` and `runs/<id>/result.json` in S3.
 */

import type { Params } from '../experiments/params';
import type { Claim } from './claims';

export type { Claim } from './claims';

export interface RunResult {
  runId: string;
  experiment: string;
  preset: string;
  status: 'completed';
  params: Params;
  seed: number;
  /**
   * Every numeric backend that computed this run's numbers, as the stages that ran them reported
   * (e.g. `float64-js`, `wasm (@tensorflow/tfjs-backend-wasm@4.22.0)`): more than one means a
   * mixed cluster took part.
   */
  backends: string[];
  claims: Claim[];
  /** Where the run departs from the paper's setting, in words (empty when it does not). */
  substitutions?: string[];
  /** Named artifact URLs (`s3://bucket/key`). */
  artifacts: Record<string, string>;
  /** Experiment-specific figures, e.g. final states. */
  summary: Record<string, unknown>;
  /** Package version and content hash of the code that computes (see `codeIdentity`). */
  codeVersion: string;
  finishedAt: string;
  /** The schedule that started this run (`repro schedule`), if one did. */
  schedule?: string;
  /**
   * For a scheduled run: the claims that passed in the schedule's previous run and do not pass
   * in this one (empty: no regression; absent: no previous run to compare with).
   */
  regressions?: string[];
}
