/**
 * The pod's metrics under `repro worker --gpus N`, without Temporal: the merge of several worker
 * processes' Prometheus texts (each process's series labelled with its device, each family once),
 * the pod's health from theirs, and the parent's endpoint over real child processes (stand-ins
 * serving a real WorkerMetrics registry on their own loopback ports): all of them scraped, one
 * that exits leaves the pod unready, one whose event loop blocks leaves it not live.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Context } from '@temporalio/activity';
import { combineHealth, mergeExpositions } from '../../infra/worker/metrics-merge';
import { freePorts, podParts, servePodMetrics } from '../../infra/worker/pod-metrics';
import { WorkerMetrics } from '../../infra/worker/worker-metrics';

/** A worker process's registry with `busy` gpu activities in flight (through its own interceptor). */
async function workerText(busy: number): Promise<string> {
  const m = new WorkerMetrics(600);
  m.setSlots('gpu', 'q-gpu', 1);
  m.setBackend('torch (libtorch 2.11.0 cuda:0)', 'abc');
  for (let i = 0; i < busy; i++) {
    const ctx = {
      info: { activityType: 'advanceUnit', taskQueue: 'q-gpu', currentAttemptScheduledTimestampMs: Date.now() - 3000 },
      heartbeat: () => undefined,
      cancellationSignal: new AbortController().signal,
    } as unknown as Context;
    void m.interceptor()(ctx).inbound!.execute!({ args: [], headers: {} }, () => new Promise(() => undefined));
  }
  return m.metrics();
}

/** Samples by series (`name{labels}`), and the TYPE lines, of a text; fails on a repeated series or family. */
function parse(text: string): { samples: Map<string, number>; types: string[] } {
  const samples = new Map<string, number>();
  const types: string[] = [];
  for (const line of text.split('\n').filter((l) => l !== '')) {
    if (line.startsWith('# TYPE ')) {
      const name = line.split(' ')[2]!;
      assert.ok(!types.includes(name), `one TYPE line for ${name}`);
      types.push(name);
    } else if (!line.startsWith('#')) {
      const series = line.slice(0, line.lastIndexOf(' '));
      assert.ok(!samples.has(series), `one sample of ${series}`);
      const name = series.split('{')[0]!;
      assert.ok(types.some((t) => name.startsWith(t)) || !text.includes('# TYPE'), `${name} after its TYPE`);
      samples.set(series, Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
  }
  return { samples, types };
}

const sum = (samples: Map<string, number>, name: string): number =>
  [...samples].filter(([s]) => s === name || s.startsWith(`${name}{`)).reduce((a, [, v]) => a + v, 0);

test('mergeExpositions: every process’s series kept apart by its device, each family once, sums add up', async () => {
  const [a, b] = [await workerText(1), await workerText(1)];
  const merged = mergeExpositions([
    { labels: { device: 'GPU-aa' }, text: a },
    { labels: { device: 'GPU-bb' }, text: b },
    { labels: {}, text: '# HELP up_ish x\n# TYPE up_ish gauge\nup_ish 1\n' },
  ]);
  const { samples, types } = parse(merged);
  assert.ok(types.includes('repro_activity_slots_used') && types.includes('repro_activity_queue_wait_seconds'));
  assert.equal(samples.get('repro_activity_slots_used{device="GPU-aa",queue="gpu"}'), 1);
  assert.equal(samples.get('repro_activity_slots_used{device="GPU-bb",queue="gpu"}'), 1);
  // What KEDA's query sums over the pod: both processes' busy slots.
  assert.equal(sum(samples, 'repro_activity_slots_used'), 2);
  assert.equal(sum(samples, 'repro_activity_slots'), 2);
  assert.equal(
    samples.get('repro_activity_queue_wait_seconds_count{device="GPU-bb",queue="gpu",activity="advanceUnit"}'),
    1,
  );
  assert.ok(
    samples.has('repro_activity_queue_wait_seconds_bucket{device="GPU-aa",le="5",queue="gpu",activity="advanceUnit"}'),
  );
  assert.ok(samples.has('repro_numerics_progress_age_seconds{device="GPU-aa"}'), 'an unlabelled series gets braces');
  assert.equal(samples.get('up_ish'), 1, 'a part with no labels keeps its series as they are');
  assert.ok([...samples.keys()].some((s) => s.startsWith('process_cpu_user_seconds_total{device="GPU-bb"')));

  // The SDK's native exporter: histograms and counters without HELP, a label value needing escapes.
  const sdk = [
    '# TYPE temporal_activity_schedule_to_start_latency histogram',
    'temporal_activity_schedule_to_start_latency_bucket{task_queue="q",le="100"} 3',
    'temporal_activity_schedule_to_start_latency_sum{task_queue="q"} 120',
    'temporal_activity_schedule_to_start_latency_count{task_queue="q"} 3',
    '# TYPE temporal_worker_task_slots_used gauge',
    'temporal_worker_task_slots_used{worker_type="ActivityWorker"} 1',
  ].join('\n');
  const sdkMerged = mergeExpositions([
    { labels: { device: '0' }, text: sdk },
    { labels: { device: 'MIG-x/1"0' }, text: sdk },
  ]);
  const s = parse(sdkMerged).samples;
  assert.equal(sum(s, 'temporal_activity_schedule_to_start_latency_count'), 6);
  assert.equal(s.get('temporal_worker_task_slots_used{device="MIG-x/1\\"0",worker_type="ActivityWorker"}'), 1);
  assert.equal(mergeExpositions([]), '');
});

const ready = { live: true, ready: true, phase: 'ready' as const, reason: '', stallSeconds: 600 };

test('combineHealth: live unless one is stalled or hung, ready only when all poll; reasons name the process', () => {
  const ok = combineHealth(
    [
      { name: 'gpu worker 0', verdict: { ...ready, inFlight: 1, oldestProgressAgeSeconds: 12 } },
      { name: 'gpu worker 1', verdict: { ...ready, inFlight: 1, oldestProgressAgeSeconds: 40 } },
    ],
    600,
    4000,
  );
  assert.deepEqual([ok.live, ok.ready, ok.inFlight, ok.oldestProgressAgeSeconds, ok.reason], [true, true, 2, 40, '']);
  const restarting = combineHealth(
    [
      { name: 'gpu worker 0', verdict: { ...ready, inFlight: 1, oldestProgressAgeSeconds: 1 } },
      { name: 'gpu worker 1', silent: 'refused', detail: 'port 1 refused' },
    ],
    600,
    4000,
  );
  assert.deepEqual([restarting.live, restarting.ready], [true, false]);
  assert.match(restarting.reason, /^gpu worker 1 is not serving \(port 1 refused\): starting, or restarting/);
  const stalled = combineHealth(
    [
      {
        name: 'gpu worker 0',
        verdict: { ...ready, live: false, inFlight: 1, oldestProgressAgeSeconds: 700, reason: 'activity x stalls' },
      },
      { name: 'gpu worker 1', silent: 'timeout', detail: 'no answer' },
    ],
    600,
    4000,
  );
  assert.equal(stalled.live, false);
  assert.match(stalled.reason, /^gpu worker 0: activity x stalls; gpu worker 1 did not answer \/healthz within 4 s/);
  assert.equal(stalled.workers.length, 2);
});

/**
 * A stand-in gpu worker process: a real WorkerMetrics (one slot, `busy` in flight) served by the
 * real serveMetrics on its port, a fixed SDK text on its SDK port; SIGUSR2 blocks its event loop.
 */
function standIn(metricsPort: number, sdkPort: number): ChildProcess {
  const worker = path.resolve(__dirname, '..', '..', 'infra', 'worker');
  const script = `
    const http = require('http');
    const { WorkerMetrics } = require(${JSON.stringify(path.join(worker, 'worker-metrics.js'))});
    const { serveMetrics } = require(${JSON.stringify(path.join(worker, 'metrics-server.js'))});
    const m = new WorkerMetrics(600);
    m.setSlots('gpu', 'q-gpu', 1);
    m.setPhase('ready');
    serveMetrics(m, '127.0.0.1', ${metricsPort});
    const sdk = '# TYPE temporal_num_pollers gauge\\ntemporal_num_pollers{poller_type="activity_task"} 5\\n';
    http.createServer((q, r) => r.end(sdk))
      .listen(${sdkPort}, '127.0.0.1');
    process.on('SIGUSR2', () => { for (;;) {} });
  `;
  return spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
}

test('the pod endpoint over real child processes: all scraped, one exited unready, one blocked not live', async () => {
  const parts = await podParts(['GPU-aa', 'GPU-bb'], false, { metricsPort: 1, sdkMetricsPort: 1 });
  assert.deepEqual(
    parts.map((p) => [p.name, p.labels]),
    [
      ['gpu worker 0 (CUDA_VISIBLE_DEVICES=GPU-aa)', { device: 'GPU-aa' }],
      ['gpu worker 1 (CUDA_VISIBLE_DEVICES=GPU-bb)', { device: 'GPU-bb' }],
    ],
  );
  assert.equal(new Set(parts.flatMap((p) => [p.metricsPort, p.sdkMetricsPort])).size, 4, 'four distinct ports');
  const children = parts.map((p) => standIn(p.metricsPort, p.sdkMetricsPort));
  const [podPort, podSdkPort] = await freePorts(2);
  const pod = await servePodMetrics(parts, {
    host: '127.0.0.1',
    metricsPort: podPort!,
    sdkMetricsPort: podSdkPort!,
    stallSeconds: 600,
    timeoutMs: 1000,
  });
  const get = async (port: number, p: string): Promise<{ status: number; body: string }> => {
    const r = await fetch(`http://127.0.0.1:${port}${p}`);
    return { status: r.status, body: await r.text() };
  };
  try {
    // Until both stand-ins listen, the pod is not ready (and still live).
    let r = await get(pod.port, '/readyz');
    for (let i = 0; r.status !== 200 && i < 100; i++) {
      assert.equal((await get(pod.port, '/healthz')).status, 200, 'starting is live');
      await new Promise((res) => setTimeout(res, 100));
      r = await get(pod.port, '/readyz');
    }
    assert.equal(r.status, 200, r.body);
    const { samples } = parse((await get(pod.port, '/metrics')).body);
    assert.equal(samples.get('repro_activity_slots{device="GPU-aa",queue="gpu"}'), 1);
    assert.equal(samples.get('repro_activity_slots{device="GPU-bb",queue="gpu"}'), 1);
    assert.equal(sum(samples, 'repro_activity_slots'), 2, 'the pod serves both processes');
    assert.equal(samples.get('repro_worker_processes{state="answering"}'), 2);
    const sdk = parse((await get(pod.sdkPort, '/metrics')).body).samples;
    assert.equal(sum(sdk, 'temporal_num_pollers'), 10);
    assert.equal(sdk.get('temporal_num_pollers{device="GPU-bb",poller_type="activity_task"}'), 5);
    assert.equal((await get(pod.sdkPort, '/healthz')).status, 404, 'health is on the metrics port');

    // One exits (the supervisor would restart it): the pod is not ready, still live, and says which.
    children[1]!.kill('SIGKILL');
    await new Promise((res) => children[1]!.once('exit', res));
    const unready = await get(pod.port, '/readyz');
    assert.equal(unready.status, 503);
    assert.match(JSON.parse(unready.body).reason, /^gpu worker 1 \(CUDA_VISIBLE_DEVICES=GPU-bb\) is not serving/);
    assert.equal((await get(pod.port, '/healthz')).status, 200);
    const left = parse((await get(pod.port, '/metrics')).body).samples;
    assert.equal(sum(left, 'repro_activity_slots'), 1);
    assert.equal(left.get('repro_worker_processes{state="silent"}'), 1);

    // One blocks its event loop (a numerics call that never returns): the pod is not live.
    children[0]!.kill('SIGUSR2');
    await new Promise((res) => setTimeout(res, 200));
    const hung = await get(pod.port, '/healthz');
    assert.equal(hung.status, 503);
    assert.match(
      JSON.parse(hung.body).reason,
      /gpu worker 0 .* did not answer \/healthz within 1 s: its event loop is blocked/,
    );
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await pod.close();
  }
});
