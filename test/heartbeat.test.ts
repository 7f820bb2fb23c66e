/**
 * Heartbeats at paper scale: a full-batch gradient over CIFAR takes minutes on the tfjs path, far
 * over the heartbeat timeout. The stages compute it a chunk of the data at a time and heartbeat
 * between chunks. Here a worker with a 2 s heartbeat timeout runs a projected path whose every
 * full-batch gradient (and Hessian-vector product) takes longer than that, checked first on this
 * machine, while loading its data does not: the run completes and no activity ever timed out.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { connectTemporal, makeObjectStore } from '../infra/clients';
import { awaitResult, startRun } from '../infra/cli/runs';
import { loadMnist } from '../src/data/mnist';
import { subset } from '../src/data/preprocess';
import { fitToModel } from '../src/data/tensor-data';
import { selectBackend, useBackend } from '../src/engine/backend';
import { planRun } from '../src/experiments/registry';
import { gradientAt, type Objective } from '../src/hessian/hvp';
import { buildModel } from '../src/models/model';
import { startWorker, testConfig, uniqueQueues } from './helpers';

const MODEL = 'mlp:784-2048-10';
const SAMPLES = 40000;
const conf = { ...uniqueQueues(), 'timeouts.heartbeatMs': '2000', 'torch.threads': '1' };

test('a heartbeat timeout shorter than one full-batch gradient: the run completes, no activity timed out', async () => {
  const config = testConfig(conf);
  // The premise, measured: one full-batch gradient on the worker's backend takes longer than the timeout.
  const { info } = await selectBackend(config.backend, config.torch);
  await useBackend(info.name === 'torch' ? 'torch' : 'wasm', config.torch);
  const model = buildModel(MODEL);
  const data = fitToModel(subset(loadMnist('train'), SAMPLES, 0), model.inputShape);
  const size = data.shape.reduce((a, b) => a * b, 1);
  const batches: Objective['batches'] = [];
  for (let at = 0; at < SAMPLES; at += 1000)
    batches.push({
      x: tf.tensor(data.x.subarray(at * size, (at + 1000) * size), [1000, ...data.shape]),
      y: tf.tensor1d(data.y.subarray(at, at + 1000), 'int32'),
    });
  const flat = tf.tensor1d(model.init(1));
  const t0 = performance.now();
  gradientAt({ model, batches, loss: 'lsce', smoothing: 0.1 }, flat).dispose();
  const gradientMs = performance.now() - t0;
  tf.dispose([flat, ...batches.flatMap((b) => [b.x, b.y])]);
  assert.ok(gradientMs > 1.5 * config.timeouts.heartbeatMs, `a full-batch gradient took ${gradientMs.toFixed(0)} ms`);

  const { experiment, params } = planRun('projected-path', 'small', [
    `model=${MODEL}`,
    `samples=${SAMPLES}`,
    'valSamples=1000',
    'batch=1000',
    'epochs=1',
    'seeds=1',
    'lr=0.5',
    // The initialization (loss about 2.3) takes a few full-batch GD steps to get below it; the
    // trained state is below it already, and the two minima are line-connected: no bisection.
    'threshold=2.1',
    'margin=0',
    'linePoints=2',
    'probes=4',
  ]);
  const w = startWorker(conf);
  const { client, connection } = await connectTemporal(config);
  try {
    await w.waitFor((e) => e.event === 'worker-ready');
    const id = `heartbeat-${randomUUID().slice(0, 8)}`;
    const handle = await startRun(client, config, experiment, 'small', params, 1, id, true);
    const result = await awaitResult(handle, makeObjectStore(config));
    assert.equal(result.status, 'completed');
    const timedOut: string[] = [];
    for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "run/${id}"` })) {
      const history = await client.workflow.getHandle(wf.workflowId).fetchHistory();
      for (const e of history.events ?? []) {
        // A retried attempt leaves no event of its own: the started event of the one that succeeded counts them.
        const attempt = e.activityTaskStartedEventAttributes?.attempt ?? 1;
        if (e.activityTaskTimedOutEventAttributes || attempt > 1)
          timedOut.push(`${wf.workflowId} event ${e.eventId} (attempt ${attempt})`);
      }
    }
    assert.deepEqual(timedOut, [], 'no activity timed out');
  } finally {
    await connection.close();
    w.child.kill('SIGTERM');
    await w.exited;
  }
});
