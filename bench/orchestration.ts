/**
 * Orchestration overhead: 1000 stand-in tasks of 200 ms (a timer, no CPU) through one workflow
 * with 16 activity slots on the embedded stack, against the ideal 1000 × 0.2 s / 16. Reports the
 * parallel efficiency (target >= 90%) and the overhead per activity.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { randomUUID } from 'crypto';
import type { ReproConfig } from '../temporal.config';
import type { Line } from './numerics';

export async function benchOrchestration(
  config: ReproConfig,
  line: Line,
  tasks = 1000,
  ms = 200,
  slots = 16,
): Promise<void> {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // installed already by an earlier section's worker
  }
  const native = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection: native,
    namespace: config.temporal.namespace,
    taskQueue: 'bench-orchestration',
    workflowsPath: require.resolve('./orchestration-workflows'),
    activities: { standInCompute: (d: number) => new Promise<number>((r) => setTimeout(() => r(d), d)) },
    maxConcurrentActivityTaskExecutions: slots,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  try {
    // warm-up: workflow bundle, pollers
    await client.workflow.execute('fanOutWorkflow', {
      taskQueue: 'bench-orchestration',
      workflowId: `bench-${randomUUID()}`,
      args: [32, 10, slots],
    });
    const ideal = (tasks * ms) / 1000 / slots;
    // A window equal to the slots idles each slot for a workflow-task round trip per activity;
    // twice the slots keeps scheduled work queued for every slot.
    for (const window of [slots, 2 * slots]) {
      const t0 = performance.now();
      await client.workflow.execute('fanOutWorkflow', {
        taskQueue: 'bench-orchestration',
        workflowId: `bench-${randomUUID()}`,
        args: [tasks, ms, window],
      });
      const wall = (performance.now() - t0) / 1000;
      line(
        `fan-out ${tasks} × ${ms} ms, ${slots} slots, window ${window}: wall vs ideal`,
        `${wall.toFixed(2)} s vs ${ideal.toFixed(2)} s: ` +
          `efficiency ${((100 * ideal) / wall).toFixed(1)}% (target >= 90%), ` +
          `overhead ${(((wall - ideal) * slots * 1000) / tasks).toFixed(1)} ms per activity`,
      );
    }
  } finally {
    await connection.close();
    worker.shutdown();
    await running;
    await native.close();
  }
}
