/**
 * The chart's Grafana dashboard (infra/helm/repro/dashboards/repro.json) and the metric names its
 * PromQL uses, beside the names the worker exports: repro's, read from the worker's own registries
 * (WorkerMetrics, and the pod endpoint's own series), so a renamed metric fails the dashboard's test.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { freePorts, servePodMetrics } from '../infra/worker/pod-metrics';
import { WorkerMetrics } from '../infra/worker/worker-metrics';

export const DASHBOARD = path.resolve(__dirname, '..', '..', 'infra', 'helm', 'repro', 'dashboards', 'repro.json');

export interface Target {
  expr: string;
  legendFormat?: string;
}
export interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  fieldConfig?: { defaults: { unit?: string } };
  gridPos: { h: number; w: number; x: number; y: number };
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: string | { query: string } }> };
}

export const loadDashboard = (): Dashboard => JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
]);

/**
 * The metric names in one PromQL expression: what is left once strings, label matchers, ranges,
 * grouping clauses, function names (an identifier before `(`), keywords and numbers are taken out.
 */
export function promqlMetricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = bare.slice(m.index! + m[0].length);
    if (/^\s*\(/.test(after) || KEYWORDS.has(m[0])) continue;
    names.push(m[0]);
  }
  return names;
}

/** Every metric name the dashboard queries: its panels' expressions and its variables' queries. */
export function dashboardMetricNames(d: Dashboard): Set<string> {
  const names = new Set<string>();
  for (const p of d.panels) for (const t of p.targets ?? []) for (const n of promqlMetricNames(t.expr)) names.add(n);
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    // label_values(metric{...}, label): the metric only (the second argument is a label's name).
    const lv = /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(q);
    for (const n of lv ? [lv[1]!] : promqlMetricNames(q)) names.add(n);
  }
  return names;
}

/** The series names a registry's metrics are served under (a histogram's `_bucket`, `_sum`, `_count`). */
function seriesNames(metrics: Array<{ name: string; type: string }>): string[] {
  return metrics.flatMap((m) =>
    m.type === 'histogram'
      ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`]
      : m.type === 'summary'
        ? [m.name, `${m.name}_sum`, `${m.name}_count`]
        : [m.name],
  );
}

/** The names repro's worker serves: a worker process's registry, and the pod endpoint's own series. */
export async function workerSeriesNames(): Promise<Set<string>> {
  const names = seriesNames(
    (await new WorkerMetrics(600).registry.getMetricsAsJSON()).map((m) => ({ name: m.name, type: String(m.type) })),
  );
  const [port] = await freePorts(1);
  const pod = await servePodMetrics([], {
    host: '127.0.0.1',
    metricsPort: port!,
    sdkMetricsPort: 0,
    stallSeconds: 600,
  });
  try {
    const text = await (await fetch(`http://127.0.0.1:${pod.port}/metrics`)).text();
    for (const line of text.split('\n')) if (line !== '' && !line.startsWith('#')) names.push(line.split(/[{\s]/)[0]!);
  } finally {
    await pod.close();
  }
  return new Set(names);
}

/**
 * Whether the Temporal SDK this worker runs can export `name` (`temporal_<metric>`, a histogram's
 * series suffix aside): the metric names compiled into its native core (the exporter adds the
 * prefix). A real worker's scrape checks the same names in test/metrics.test.ts.
 */
export function sdkCanExport(name: string, nativeCore: Buffer): boolean {
  const base = name.replace(/^temporal_/, '').replace(/_(bucket|sum|count)$/, '');
  return name.startsWith('temporal_') && nativeCore.includes(base);
}

/** The SDK's native core (the prebuilt library its worker loads on this platform). */
export function loadNativeCore(): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK's own lookup of its library
  const { getPrebuiltPath } = require('@temporalio/core-bridge/common') as { getPrebuiltPath(): string };
  return readFileSync(getPrebuiltPath());
}
