/**
 * A worker's metrics endpoint on the real stack: a worker process with worker.metricsPort and
 * worker.sdkMetricsPort on runs a fig7 study; scraped during the run, repro's steps counter rises
 * between two scrapes while a unit is in flight, the SDK's own `temporal_` metrics are served on
 * their port (each one the chart's dashboard queries among them), and `/healthz` and `/readyz`
 * answer 200. Under `--gpus 2` (stand-in devices: the children run on whatever backend this
 * machine has) the pod's ports serve all three processes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { test } from 'node:test';
import { connectTemporal } from '../infra/clients';
import { startRun } from '../infra/cli/runs';
import { planRun } from '../src/experiments/registry';
import { dashboardMetricNames, loadDashboard } from './dashboard-metrics';
import { sleep, startWorker, testConfig, uniqueQueues } from './helpers';

/** A port free on loopback now (the worker binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** The sum of a metric's samples over all its label sets (undefined when it has none). */
function sum(text: string, name: string): number | undefined {
  const values = text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
  return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
}

test('a worker serves its metrics during a run: steps rise, a unit in flight, SDK metrics, healthz', async () => {
  const [port, sdkPort] = [await freePort(), await freePort()];
  const conf = {
    ...uniqueQueues(),
    'worker.metricsPort': String(port),
    'worker.sdkMetricsPort': String(sdkPort),
  };
  const config = testConfig(conf);
  const w = startWorker(conf);
  const { client, connection } = await connectTemporal(config);
  const runId = `metrics-${randomUUID().slice(0, 8)}`;
  let run: Awaited<ReturnType<typeof startRun>> | undefined;
  try {
    const serving = await w.waitFor((e) => e.event === 'metrics');
    assert.equal(serving.port, port);
    await w.waitFor((e) => e.event === 'worker-ready');
    assert.equal((await get(port, '/readyz')).status, 200);

    // Long enough to be scraped twice while it trains (fig7's toy: millions of steps a minute).
    const { experiment, params } = planRun('fig7', 'default', ['steps=400000000', 'checkpointEvery=2000000']);
    run = await startRun(client, config, experiment, 'default', params, 1, runId);
    await w.waitFor((e) => e.event === 'checkpoint' && e.runId === runId, 120_000);

    const first = (await get(port, '/metrics')).body;
    const stepsBefore = sum(first, 'repro_training_steps_total') ?? 0;
    assert.ok((sum(first, 'repro_activities_in_flight') ?? 0) >= 1, 'a unit in flight');
    assert.ok((sum(first, 'repro_activity_slots_used') ?? 0) >= 1, 'a slot in use');
    assert.ok((sum(first, 'repro_activity_slots') ?? 0) >= 2, 'the configured slots of both queues');
    assert.ok((sum(first, 'repro_checkpoint_bytes_total') ?? 0) > 0, 'checkpoint bytes written');
    assert.match(first, /repro_events_total\{event="checkpoint"\} [1-9]/);
    assert.match(first, /repro_worker_info\{backend="[^"]+",code_version="[^"]+"\} 1/);
    await sleep(3000);
    const second = (await get(port, '/metrics')).body;
    const stepsAfter = sum(second, 'repro_training_steps_total') ?? 0;
    assert.ok(stepsAfter > stepsBefore, `steps rose between scrapes: ${stepsBefore} then ${stepsAfter}`);
    assert.ok((sum(second, 'repro_activities_in_flight') ?? 0) >= 1, 'still in flight');

    const health = await get(port, '/healthz');
    assert.equal(health.status, 200, health.body);
    assert.equal(JSON.parse(health.body).inFlight >= 1, true, health.body);

    const sdk = (await get(sdkPort, '/metrics')).body;
    assert.match(sdk, /^temporal_\w+/m, `the SDK's metrics: ${sdk.slice(0, 300)}`);
    // The chart's dashboard queries only SDK metrics that a real worker serves, under those names.
    const served = new Set(sdk.split('\n').map((l) => l.split(/[{\s]/)[0]));
    const missing = [...dashboardMetricNames(loadDashboard())].filter(
      (n) => n.startsWith('temporal_') && !served.has(n),
    );
    assert.deepEqual(missing, [], `the dashboard's SDK metrics a worker serves: ${[...served].join(' ')}`);
  } finally {
    await run?.terminate('metrics test done').catch(() => undefined);
    await connection.close();
    w.child.kill('SIGTERM');
    await w.exited;
  }
});

test("repro worker --gpus 2: the pod's ports serve every process, merged, and its probes judge them all", async () => {
  const [port, sdkPort] = [await freePort(), await freePort()];
  const conf = {
    ...uniqueQueues(),
    'worker.metricsPort': String(port),
    'worker.sdkMetricsPort': String(sdkPort),
    'worker.gpus': '2',
  };
  // Both queues: this process serves the cpu queue itself, two children the gpu queue.
  const w = startWorker(conf, { CUDA_VISIBLE_DEVICES: '0,1' });
  try {
    const serving = await w.waitFor((e) => e.event === 'metrics' && e.processes === 3, 60_000);
    assert.deepEqual([serving.port, serving.sdkPort], [port, sdkPort]);
    let ready = await get(port, '/readyz');
    for (let i = 0; ready.status !== 200 && i < 240; i++) {
      await sleep(500);
      ready = await get(port, '/readyz');
    }
    assert.equal(ready.status, 200, ready.body);
    assert.equal(JSON.parse(ready.body).workers.length, 3);
    const text = (await get(port, '/metrics')).body;
    assert.match(text, /^repro_activity_slots\{device="0",queue="gpu"\} 1$/m);
    assert.match(text, /^repro_activity_slots\{device="1",queue="gpu"\} 1$/m);
    assert.match(text, /^repro_activity_slots\{queue="cpu"\} [1-9]/m, "this process's own cpu worker, unlabelled");
    assert.match(text, /^repro_worker_processes\{state="answering"\} 3$/m);
    assert.equal(text.match(/^# TYPE repro_activity_slots_used /gm)?.length, 1, 'each family once');
    // The SDK's metrics of all three processes: the children's labelled with their devices.
    let sdk = '';
    for (let i = 0; i < 60 && !/^temporal_\w+\{device="1"/m.test(sdk); i++) {
      sdk = (await get(sdkPort, '/metrics')).body;
      if (!/^temporal_\w+\{device="1"/m.test(sdk)) await sleep(500);
    }
    assert.match(sdk, /^temporal_\w+\{device="0"/m, sdk.slice(0, 300));
    assert.match(sdk, /^temporal_\w+\{device="1"/m, sdk.slice(0, 300));
    assert.equal((await get(port, '/healthz')).status, 200);
  } finally {
    w.child.kill('SIGTERM');
    await w.exited;
  }
});
