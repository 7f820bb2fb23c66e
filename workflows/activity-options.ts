import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE } from '../src/results/failure-types';
import type { RunInput } from './run-input';

/**
 * The activity proxies every workflow uses, one per task queue: numerics on `gpu` (one model per
 * slot), light work (toys, bookkeeping, summaries) on `cpu`. A dead worker is noticed by its
 * missing heartbeat and the retry resumes from the last checkpoint; a cancelled activity is
 * waited for, so it commits a final checkpoint before the run ends; what no retry can fix fails
 * at once (the non-retryable types); anything else (S3 or network down, a worker lost) is retried
 * with backoff up to a minute apart for as long as it takes: an unattended run outlives an outage
 * of any length (`repro status` shows the attempt and the last failure; `repro cancel` ends it).
 * `summary` labels the calls made through these proxies in the Web UI.
 */
export function activityProxies(input: RunInput, summary?: string) {
  const common = {
    heartbeatTimeout: input.timeouts.heartbeatMs,
    startToCloseTimeout: input.timeouts.activityStartToCloseMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: 1000,
      backoffCoefficient: 2,
      maximumInterval: 60_000,
      // no maximumAttempts: unlimited
      nonRetryableErrorTypes: [...NON_RETRYABLE],
    },
    // The line the Web UI shows for the activity ("project iteration 1200, seed 4").
    ...(summary ? { summary } : {}),
  };
  return {
    gpu: proxyActivities<Activities>({ ...common, taskQueue: input.taskQueues.gpu }),
    cpu: proxyActivities<Activities>({ ...common, taskQueue: input.taskQueues.cpu }),
  };
}
