/**
 * The chart's Grafana dashboard: the JSON parses into panels that cover what an operator watches
 * (slots and work in flight per queue, queue wait, steps/s, loss, checkpoint bytes and seconds, GPU
 * memory, worker health), the ConfigMap renders for Grafana's sidecar when asked (its label, an
 * optional namespace and annotations), and every metric its PromQL names is one the worker exports:
 * repro's read from the worker's own registries, the SDK's from the names compiled into its core.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import {
  DASHBOARD,
  dashboardMetricNames,
  loadDashboard,
  loadNativeCore,
  promqlMetricNames,
  sdkCanExport,
  workerSeriesNames,
} from './dashboard-metrics';
import { ensureHelm, render } from './helm-render';

before(ensureHelm);

test('the dashboard parses and covers slots, queue wait, steps/s, loss, checkpoints, GPU memory, health', () => {
  const d = loadDashboard();
  assert.equal(d.uid, 'repro-workers');
  const panels = d.panels.filter((p) => p.type !== 'row');
  for (const p of panels) {
    assert.ok((p.targets ?? []).length > 0, `${p.title}: a query`);
    assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `${p.title}: the chosen Prometheus`);
    for (const t of p.targets!) assert.match(t.expr, /namespace="\$namespace", pod=~"\$pod"/, `${p.title}: scoped`);
  }
  const exprs = (title: RegExp): string =>
    panels
      .filter((p) => title.test(p.title))
      .flatMap((p) => p.targets!.map((t) => t.expr))
      .join('\n');
  assert.match(exprs(/^Slots used/), /repro_activity_slots_used/);
  assert.match(exprs(/^Queue wait/), /temporal_activity_schedule_to_start_latency_bucket/, 'the SDK view of the wait');
  assert.match(exprs(/^Queue wait/), /repro_activity_queue_wait_seconds_bucket/);
  assert.match(exprs(/^Steps\/s/), /rate\(repro_training_steps_total/);
  assert.match(exprs(/loss/), /repro_training_loss/);
  assert.match(exprs(/^Checkpoint bytes/), /repro_checkpoint_bytes_total/);
  assert.match(exprs(/^Checkpoint seconds/), /repro_checkpoint_seconds_bucket/);
  assert.match(exprs(/GPU memory/), /repro_engine_tensor_bytes/);
  assert.match(exprs(/ready and silent/), /repro_worker_ready/);
  // Panels do not overlap on Grafana's 24-column grid.
  const cells = new Set<string>();
  for (const p of d.panels)
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        assert.ok(x < 24 && !cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
});

test('promqlMetricNames: metric names only, not functions, labels, grouping or variables', () => {
  assert.deepEqual(
    promqlMetricNames(
      'histogram_quantile(0.95, sum by (le, queue) ' +
        '(rate(a_bucket{namespace="$namespace", q=~"x{y}"}[$__rate_interval]))) / on (pod) group_left b_total and c',
    ),
    ['a_bucket', 'b_total', 'c'],
  );
});

test('every metric the dashboard queries is one the worker exports (its registries; the SDK core)', async () => {
  const used = dashboardMetricNames(loadDashboard());
  const repro = await workerSeriesNames();
  const core = loadNativeCore();
  assert.ok(repro.has('repro_activity_slots_used') && repro.has('repro_worker_processes'), 'the registries read');
  assert.ok(!sdkCanExport('temporal_no_such_metric_anywhere', core), 'the SDK check can fail');
  const unknown = [...used].filter((n) => !repro.has(n) && !sdkCanExport(n, core));
  assert.deepEqual(unknown, [], 'names no worker exports');
  assert.ok([...used].some((n) => n.startsWith('temporal_')) && used.size >= 15, [...used].join(' '));
});

test('the dashboard ConfigMap: off by default; on, labelled for the sidecar, in the namespace asked', () => {
  const none = render([]).docs.filter((d) => d.kind === 'ConfigMap' && d.metadata.name === 'r-repro-dashboard');
  assert.equal(none.length, 0, 'off by default, like the PodMonitor it reads from');
  const on = render(
    [],
    [
      'grafana.dashboard.enabled=true',
      'grafana.dashboard.namespace=monitoring',
      'grafana.dashboard.annotations.grafana_folder=repro',
    ],
  ).docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'r-repro-dashboard')!;
  assert.equal(on.metadata.labels?.grafana_dashboard, '1');
  assert.equal(on.metadata.namespace, 'monitoring');
  assert.equal(on.metadata.annotations?.grafana_folder, 'repro');
  assert.deepEqual(JSON.parse(on.data!['repro.json']!), JSON.parse(readFileSync(DASHBOARD, 'utf8')), 'the file as is');
  const here = render([], ['grafana.dashboard.enabled=true']).docs.find(
    (d) => d.metadata.name === 'r-repro-dashboard',
  )!;
  assert.equal(here.metadata.namespace, 'default', "the release's namespace");
});
