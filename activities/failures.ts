import { ApplicationFailure } from '@temporalio/activity';
import type { NonRetryableType } from '../src/results/failure-types';
import { DivergenceError } from '../src/train/divergence';

/** A failure no retry can fix, of one of the named types workflows list as non-retryable. */
export function nonRetryable(message: string, type: NonRetryableType): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

/**
 * The one mapping from the numerics' failures to Temporal's: a divergence is a fixed outcome of
 * the inputs (non-retryable `Divergence`); anything else is rethrown as it is, for the retry
 * policy to judge. Use as `.catch(rethrowAsFailure)` or in a catch block.
 */
export function rethrowAsFailure(err: unknown): never {
  if (err instanceof DivergenceError) throw nonRetryable(err.message, 'Divergence');
  throw err;
}
