/**
 * Failure types that a retry cannot fix, by name: the one list that activities throw, workflows
 * give Temporal as `nonRetryableErrorTypes`, and the CLI maps to exit status 2 where they are
 * the user's to fix.
 */
export const NON_RETRYABLE = [
  /** A non-finite iterate: lower the learning rate or the noise. */
  'Divergence',
  /** Bad experiment parameters. */
  'ParamError',
  /** A data file that is not what it claims to be. */
  'DataFormatError',
  /** A data set the run needs is not on the worker (import it with `repro data import`). */
  'DataMissingError',
  /** A stage input whose hash no longer verifies. */
  'CorruptCheckpoint',
  /** A state a later stage needs was never committed. */
  'MissingCheckpoint',
  /** A stored object (checkpoint, unit output, path rows, result) belongs to other inputs than the run's. */
  'InputMismatch',
] as const;

export type NonRetryableType = (typeof NON_RETRYABLE)[number];
