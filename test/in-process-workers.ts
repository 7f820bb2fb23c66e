/** Workers in the test process for the workflow tests (kept apart from helpers.ts: it loads the SDK's worker). */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { codeVersion } from '../infra/clients';
import { dataConverterFor } from '../infra/codec';
import type { ObjectStore } from '../src/storage/object-store';
import type { ReproConfig } from '../temporal.config';

/**
 * Workers on both of `config`'s task queues in this process, against the test server, with
 * real activities on `store`; `stop` shuts them down and closes the connection.
 */
export async function inProcessWorkers(
  config: ReproConfig,
  store: ObjectStore,
): Promise<{ env: TestWorkflowEnvironment; stop: () => Promise<void> }> {
  const env = await TestWorkflowEnvironment.createFromExistingServer({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    client: { dataConverter: dataConverterFor(config) },
  });
  const activities = createActivities({
    store,
    config,
    stopping: new AbortController().signal,
    log: () => {},
    codeVersion: codeVersion(),
  });
  const workers = await Promise.all(
    [config.taskQueues.cpu, config.taskQueues.gpu].map((taskQueue) =>
      Worker.create({
        connection: env.nativeConnection,
        namespace: config.temporal.namespace,
        taskQueue,
        workflowsPath: require.resolve('../workflows'),
        activities,
        dataConverter: dataConverterFor(config),
      }),
    ),
  );
  const running = Promise.all(workers.map((w) => w.run()));
  return {
    env,
    stop: async () => {
      workers.forEach((w) => w.shutdown());
      await running;
      await env.teardown();
    },
  };
}
