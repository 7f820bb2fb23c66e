/**
 * `repro compare`'s pure parts on hand-made results: which claims changed verdict, which
 * parameters differ, the code version and backends only when they differ, runs of two experiments
 * refused; and the overlay of two figures' Vega-Lite specs, rendered to SVG as the reports are.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderCompareHtml } from '../../src/report/compare-report';
import { lineFigure, scatterFigure } from '../../src/report/figures';
import { overlaySpecs } from '../../src/report/overlay-figure';
import { renderSvg } from '../../src/report/render-svg';
import {
  compareRuns,
  ExperimentMismatchError,
  formatComparison,
  type ComparedResult,
} from '../../src/results/run-comparison';
import { claim } from './claim-fixture';

const runA: ComparedResult = {
  runId: 'fig7-a',
  experiment: 'fig7',
  preset: 'quick',
  seed: 1,
  params: { alpha: 1e-4, lr: 0.02, theta0: [0.1, 0.1] },
  backends: ['float64-js'],
  claims: [claim('theta2-equilibrium', 1.02, 'pass'), claim('theta1-variance', 1.05, 'pass')],
  codeVersion: '0.1.0+aaaa',
};
const runB: ComparedResult = {
  ...runA,
  runId: 'fig7-b',
  params: { alpha: 3e-4, lr: 0.02, theta0: [0.1, 0.2] },
  claims: [claim('theta2-equilibrium', 1.5, 'fail'), claim('theta1-variance', 1.04, 'pass'), claim('extra', 2, 'pass')],
};

test('claims side by side: a changed verdict is marked, an unchanged one not, a one-sided claim is changed', () => {
  const c = compareRuns(runA, runB);
  assert.equal(c.experiment, 'fig7');
  assert.deepEqual(
    c.claims.map((k) => [k.id, k.a?.verdict, k.b?.verdict, k.changed]),
    [
      ['theta2-equilibrium', 'pass', 'fail', true],
      ['theta1-variance', 'pass', 'pass', false],
      ['extra', undefined, 'pass', true],
    ],
  );
  assert.equal(c.claims[0]!.a!.measured, 1.02);
  assert.deepEqual(c.claims[0]!.b!.interval, { lo: 1.45, hi: 1.55, confidence: 0.95 });
  assert.equal(c.claims[0]!.b!.text, '1.5 [1.45, 1.55] (95%)');
});

test('only the parameters that differ are listed (key: a → b); same code and backends are not mentioned', () => {
  const c = compareRuns(runA, runB);
  assert.deepEqual(c.differences, [
    { key: 'alpha', a: 1e-4, b: 3e-4 },
    { key: 'theta0', a: [0.1, 0.1], b: [0.1, 0.2] },
  ]);
  assert.equal(c.codeVersion, undefined);
  assert.equal(c.backends, undefined);
  const text = formatComparison(c);
  assert.match(text, /fig7-a/);
  assert.match(text, /fig7-b/);
  assert.match(text, /^ {2}alpha: 0\.0001 → 0\.0003$/m);
  assert.match(text, /^ {2}theta0: 0\.1, 0\.1 → 0\.1, 0\.2$/m);
  assert.match(
    text,
    /^ {2}\* theta2-equilibrium: A \[pass\] 1\.02 .* \| B \[fail\] 1\.5 .*verdict changed: pass → fail/m,
  );
  assert.match(text, /^ {4}theta1-variance: A \[pass\]/m);
  assert.doesNotMatch(text, /code version|backends/);
});

test('code version, backends, preset and seed are shown when they differ; identical runs differ in nothing', () => {
  const c = compareRuns(runA, { ...runA, runId: 'fig7-c', seed: 2, codeVersion: '0.1.0+bbbb', backends: ['wasm'] });
  assert.deepEqual(c.differences, [{ key: 'seed', a: 1, b: 2 }]);
  assert.deepEqual(c.codeVersion, { a: '0.1.0+aaaa', b: '0.1.0+bbbb' });
  assert.deepEqual(c.backends, { a: ['float64-js'], b: ['wasm'] });
  assert.match(formatComparison(c), /code version: 0\.1\.0\+aaaa → 0\.1\.0\+bbbb\nbackends: float64-js → wasm/);
  const same = compareRuns(runA, { ...runA, runId: 'fig7-d' });
  assert.deepEqual(same.differences, []);
  assert.ok(same.claims.every((k) => !k.changed));
  assert.match(formatComparison(same), /parameters: the same/);
});

test('runs of two experiments are refused, naming both', () => {
  assert.throws(
    () => compareRuns(runA, { ...runB, runId: 'fig5-x', experiment: 'fig5' }),
    (err: Error) =>
      err instanceof ExperimentMismatchError &&
      /run fig7-a is of fig7 and run fig5-x of fig5: compare two runs of one experiment/.test(err.message),
  );
});

const fig = (alpha: number, shift: number) =>
  lineFigure({
    id: 'fig7-theta2',
    title: `θ2 (α=${alpha})`,
    caption: 'c',
    data: [0, 1, 2].flatMap((step) => [
      { step, theta2: step + shift, run: 'GD' },
      { step, theta2: -step - shift, run: 'GD + noise' },
    ]),
    x: { field: 'step', title: 'step' },
    y: { field: 'theta2', title: 'θ2' },
    series: 'run',
    rules: [{ y: -alpha, label: `predicted ${alpha}` }],
  }).spec;

test('overlay: both datasets tagged by run (not clashing with a `run` series), styled apart, rendered', async () => {
  const spec = overlaySpecs(fig(1, 0), fig(3, 0.5), 'fig7-a', 'fig7-b', 'fig7-theta2');
  const values = (spec.data as { values: Array<Record<string, unknown>> }).values;
  assert.equal(values.length, 12);
  assert.deepEqual([...new Set(values.map((v) => v['run id']))], ['fig7-a', 'fig7-b']);
  assert.deepEqual([...new Set(values.map((v) => v.run))], ['GD', 'GD + noise'], "the figure's own series kept");
  const layers = spec.layer as Array<{ data?: unknown; encoding: Record<string, { field?: string }> }>;
  assert.equal(layers[0]!.encoding.color!.field, 'run', 'series keep their colour');
  assert.equal(layers[0]!.encoding.strokeDash!.field, 'run id', 'runs differ in dash');
  assert.equal(layers.filter((l) => l.data).length, 4, "each run's (differing) reference rule and label");
  const svg = await renderSvg(spec);
  for (const id of ['fig7-a', 'fig7-b']) assert.match(svg, new RegExp(`>${id}<`), `legend names ${id}`);

  // Same reference lines in both: kept once; no colour series: the run takes the colour.
  const scatter = (shift: number) =>
    scatterFigure({
      id: 's',
      title: 's',
      caption: 'c',
      data: [1, 2, 3].map((x) => ({ x, y: x + shift, lo: x + shift - 0.1, hi: x + shift + 0.1 })),
      x: { field: 'x', title: 'x' },
      y: { field: 'y', title: 'y' },
      err: { lo: 'lo', hi: 'hi' },
      lines: [{ label: 'paper', slope: 1, intercept: 0 }],
    }).spec;
  const s = overlaySpecs(scatter(0), scatter(0.3), 'run-1', 'run-2');
  const sl = s.layer as Array<{ data?: unknown; encoding: Record<string, { field?: string }> }>;
  assert.equal(sl[0]!.encoding.color!.field, 'run');
  assert.equal(sl.filter((l) => l.data).length, 1);
  const ssvg = await renderSvg(s);
  for (const id of ['run-1', 'run-2']) assert.match(ssvg, new RegExp(`>${id}<`));
});

test('the comparison page: both run ids, a row per claim with the changed ones marked, what differs, figures', () => {
  const html = renderCompareHtml(compareRuns(runA, runB), 'fig7', [
    { id: 'fig7-theta2', title: 't', caption: 'c', svg: '<svg></svg>' },
  ]);
  assert.match(html, /<code class="run-id">fig7-a<\/code>/);
  assert.match(html, /<code class="run-id">fig7-b<\/code>/);
  assert.equal(html.match(/<tr class="changed"/g)?.length, 2);
  assert.equal(html.match(/<tr class="same"/g)?.length, 1);
  assert.match(html, /<td>alpha<\/td><td class="num">0\.0001<\/td><td class="num">0\.0003<\/td>/);
  assert.match(html, /<figure id="figure-fig7-theta2" class="plot"><svg>/);
});
