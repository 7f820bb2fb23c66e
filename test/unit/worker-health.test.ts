/**
 * The worker's stall rule and its endpoint, without Temporal or S3: a fake clock, activity
 * attempts driven through the metrics' own interceptor, `/healthz` read over loopback HTTP.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Context } from '@temporalio/activity';
import { judgeHealth } from '../../infra/worker/health';
import { serveMetrics } from '../../infra/worker/metrics-server';
import { WorkerMetrics } from '../../infra/worker/worker-metrics';

const T0 = 1_700_000_000_000;
const at = (seconds: number): number => T0 + seconds * 1000;
const train = (lastProgressS: number) => ({ activity: 'advanceUnit', queue: 'gpu', lastProgressMs: at(lastProgressS) });

test('an idle worker is live however long it idles', () => {
  const h = judgeHealth('ready', [], 600, at(1e6));
  assert.equal(h.live, true);
  assert.equal(h.ready, true);
  assert.equal(h.oldestProgressAgeSeconds, 0);
});

test('live while every activity in flight progressed within the bound, not live past it', () => {
  assert.equal(judgeHealth('ready', [train(0)], 600, at(600)).live, true);
  const stalled = judgeHealth('ready', [train(100), train(0)], 600, at(601));
  assert.equal(stalled.live, false);
  assert.equal(stalled.oldestProgressAgeSeconds, 601);
  // One line naming what is wrong, the setting, and what to do.
  assert.match(
    stalled.reason,
    /advanceUnit on the gpu queue has not progressed for 601 s \(worker.stallSeconds = 600\)/,
  );
  assert.match(stalled.reason, /restart the worker/);
  assert.doesNotMatch(stalled.reason, /\n/);
});

test('ready only while polling: not while starting or stopping', () => {
  assert.equal(judgeHealth('starting', [], 600, T0).ready, false);
  assert.equal(judgeHealth('stopping', [], 600, T0).ready, false);
  assert.match(judgeHealth('stopping', [], 600, T0).reason, /worker is stopping/);
});

/** An activity attempt as the SDK hands it to interceptors (the fields the metrics read). */
function fakeContext(activityType: string, taskQueue: string, scheduledMs: number): Context {
  return {
    info: { activityType, taskQueue, currentAttemptScheduledTimestampMs: scheduledMs },
    heartbeat: () => undefined,
    cancellationSignal: new AbortController().signal,
  } as unknown as Context;
}

test('/healthz answers 503 once a unit in flight has not heartbeat for worker.stallSeconds', async () => {
  let now = T0;
  const metrics = new WorkerMetrics(600, () => now);
  metrics.setSlots('gpu', 'q-gpu', 1);
  metrics.setPhase('ready');
  const server = await serveMetrics(metrics, '127.0.0.1', 0);
  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const r = await fetch(`http://127.0.0.1:${server.port}${path}`);
    return { status: r.status, body: await r.text() };
  };
  try {
    const ctx = fakeContext('advanceUnit', 'q-gpu', T0 - 2000);
    const { inbound } = metrics.interceptor()(ctx);
    let finish!: () => void;
    const running = inbound!.execute!(
      { args: [], headers: {} },
      () => new Promise<unknown>((r) => (finish = () => r({}))),
    );
    // Steps from heartbeats: the first is where the unit resumed, then 5 steps taken.
    ctx.heartbeat({ unit: 'u', step: 100 });
    now = at(300);
    ctx.heartbeat({ unit: 'u', step: 105, loss: 0.25 });
    assert.equal((await get('/healthz')).status, 200);
    const text = (await get('/metrics')).body;
    assert.match(text, /repro_training_steps_total\{queue="gpu",activity="advanceUnit"\} 5/);
    assert.match(text, /repro_training_loss\{queue="gpu",activity="advanceUnit"\} 0.25/);
    assert.match(text, /repro_activities_in_flight\{queue="gpu",activity="advanceUnit"\} 1/);
    assert.match(text, /repro_activity_slots_used\{queue="gpu"\} 1/);
    assert.match(text, /repro_activity_slots\{queue="gpu"\} 1/);

    now = at(300 + 601);
    const stalled = await get('/healthz');
    assert.equal(stalled.status, 503);
    assert.match(stalled.body, /has not progressed for 601 s/);
    assert.match((await get('/metrics')).body, /repro_numerics_progress_age_seconds 601/);
    assert.equal((await get('/readyz')).status, 200);

    // The attempt ends: nothing in flight, live again.
    finish();
    await running;
    assert.equal((await get('/healthz')).status, 200);
    assert.match(
      (await get('/metrics')).body,
      /repro_activities_total\{queue="gpu",activity="advanceUnit",outcome="completed"\} 1/,
    );
    metrics.setPhase('stopping');
    assert.equal((await get('/readyz')).status, 503);
  } finally {
    await server.close();
  }
});

test('the engine memory gauges read the backend at scrape time (0 before a backend is chosen)', async () => {
  const metrics = new WorkerMetrics(600);
  assert.match(await metrics.metrics(), /^repro_engine_tensor_bytes 0$/m);
  let held = { bytes: 4096, tensors: 3 };
  metrics.setBackend('torch (libtorch 2.11.0 cuda:0)', 'abc', () => held);
  assert.match(await metrics.metrics(), /^repro_engine_tensor_bytes 4096$/m);
  assert.match(await metrics.metrics(), /^repro_engine_tensors 3$/m);
  held = { bytes: 0, tensors: 0 };
  assert.match(await metrics.metrics(), /^repro_engine_tensor_bytes 0$/m);
});
