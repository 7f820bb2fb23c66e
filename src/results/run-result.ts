/**
 * What a finished run reports: the same object for `repro run --wait --json`,
 * `repro results --json` and `runs/<id>/result.json` in S3.
 */

/** One checkable statement of the paper, with the prediction and what we measured. */
export interface Claim {
  id: string;
  description: string;
  /** Where the paper says it (figure, section, equation). */
  paper: string;
  predicted: number;
  measured: number;
  /** |measured - predicted| <= tolerance passes. */
  tolerance: number;
  verdict: 'pass' | 'fail';
}

export interface RunResult {
  runId: string;
  experiment: string;
  preset: string;
  status: 'completed';
  params: Record<string, unknown>;
  seed: number;
  /** What computed the numbers (e.g. `float64-js`, `tfjs-wasm@4.22.0`). */
  backend: string;
  claims: Claim[];
  /** Named artifact URLs (`s3://bucket/key`). */
  artifacts: Record<string, string>;
  /** Experiment-specific figures, e.g. final states. */
  summary: Record<string, unknown>;
  codeVersion: string;
  finishedAt: string;
}

/** Build a claim whose verdict follows from the numbers. */
export function claim(c: Omit<Claim, 'verdict'>): Claim {
  const ok = Number.isFinite(c.measured) && Math.abs(c.measured - c.predicted) <= c.tolerance;
  return { ...c, verdict: ok ? 'pass' : 'fail' };
}
