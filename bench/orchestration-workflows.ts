/** Workflows of the orchestration benchmark: a windowed fan-out of stand-in compute activities. */
import { proxyActivities } from '@temporalio/workflow';

interface StandIn {
  standInCompute(ms: number): Promise<number>;
}

/** Run `tasks` activities of `ms` each, at most `window` in flight (as the pipeline's windows). */
export async function fanOutWorkflow(tasks: number, ms: number, window: number): Promise<number> {
  const { standInCompute } = proxyActivities<StandIn>({
    startToCloseTimeout: '1 minute',
    taskQueue: 'bench-orchestration',
  });
  let next = 0,
    done = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < tasks) {
        next++;
        await standInCompute(ms);
        done++;
      }
    }),
  );
  return done;
}
