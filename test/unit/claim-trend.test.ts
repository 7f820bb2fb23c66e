/**
 * Per-claim trends on hand-made results: runs grouped into series (a schedule's; by hand, one
 * experiment, preset and parameters), ordered by scheduled time, capped to the newest runs, each
 * claim's verdict and interval per run; the trend figure rendered to SVG as the reports render
 * figures; the trend table; and the stored index's links, which name the reports' keys.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderHtmlReport, renderIndexHtml } from '../../src/report/html-report';
import { renderTrendFigures, trendHtml } from '../../src/report/trend-report';
import { runSeries, seriesTitle, TREND_RUNS, type TrendedResult } from '../../src/results/claim-trend';
import type { Claim } from '../../src/results/claims';
import type { RunResult } from '../../src/results/run-result';
import { scheduledTimeOfRun } from '../../src/runs/ids';
import { layout } from '../../src/storage/layout';
import { claim } from './claim-fixture';

const day = (d: number): string => new Date(Date.UTC(2026, 10, 1 + d, 3)).toISOString().replace('.000Z', 'Z');

/** A run of schedule `nightly` scheduled on day `d`, finishing a day late (a backfill would). */
const scheduled = (d: number, claims: Claim[]): TrendedResult => ({
  runId: `sched-nightly-${day(d)}`,
  experiment: 'fig7',
  preset: 'quick',
  params: { steps: 1000 },
  claims,
  finishedAt: day(d + 1),
  schedule: 'nightly',
});

const byHand = (runId: string, d: number, steps: number, claims: Claim[]): TrendedResult => ({
  runId,
  experiment: 'fig7',
  preset: 'quick',
  params: { steps },
  claims,
  finishedAt: day(d),
});

test('a scheduled run id holds its scheduled time', () => {
  assert.equal(scheduledTimeOfRun('sched-a-b-2026-11-27T03:00:00Z'), '2026-11-27T03:00:00Z');
  assert.equal(scheduledTimeOfRun('fig7-2026-11-27T03:00:00Z'), undefined);
});

test('runs group into series: a schedule, and runs by hand per experiment, preset and parameters', () => {
  const series = runSeries([
    scheduled(3, [claim('a', 1.3, 'fail'), claim('b', 2, 'pass')]),
    scheduled(1, [claim('a', 1.02, 'pass'), claim('c', 0.5, 'inconclusive')]),
    scheduled(2, [claim('a', 1.04, 'pass'), claim('b', 2.1, 'pass')]),
    byHand('h1', 0, 1000, [claim('a', 1, 'pass')]),
    byHand('h2', 5, 2000, [claim('a', 0.7, 'fail')]),
    byHand('h3', 6, 2000, [claim('a', 0.8, 'fail')]),
  ]);
  assert.deepEqual(
    series.map((s) => [s.key.split(':')[0], s.runs.map((r) => r.runId)]),
    [
      ['runs', ['h2', 'h3']],
      ['schedule', [1, 2, 3].map((d) => `sched-nightly-${day(d)}`)],
      ['runs', ['h1']],
    ],
    'series newest first, each oldest first',
  );
  const [hand2000, nightly, hand1000] = series as [(typeof series)[0], (typeof series)[0], (typeof series)[0]];
  assert.deepEqual(hand2000.distinguishing, ['steps=2000']);
  assert.deepEqual(hand1000.distinguishing, ['steps=1000']);
  assert.equal(seriesTitle(hand2000), 'fig7, preset quick, steps=2000 (runs started by hand)');
  assert.equal(seriesTitle(nightly), 'schedule nightly (fig7, preset quick)');
  assert.deepEqual(nightly.distinguishing, [], "a schedule's runs share their parameters");
  assert.equal(nightly.runs[0]!.time, day(1), 'a scheduled run is placed at its scheduled time, not when it finished');

  // The newest run's claims first, in its order, then those only older runs have.
  assert.deepEqual(
    nightly.claims.map((c) => c.id),
    ['a', 'b', 'c'],
  );
  const a = nightly.claims[0]!;
  assert.deepEqual(
    a.points.map((p) => [p.verdict, p.measured]),
    [
      ['pass', 1.02],
      ['pass', 1.04],
      ['fail', 1.3],
    ],
  );
  assert.deepEqual(a.points[2]!.interval, { lo: 1.25, hi: 1.35, confidence: 0.95 });
  assert.equal(a.points[2]!.text, '1.3 [1.25, 1.35] (95%)');
  assert.equal(a.latest.measured, 1.3);
  assert.deepEqual(
    nightly.claims[1]!.points.map((p) => p.runId),
    [2, 3].map((d) => `sched-nightly-${day(d)}`),
    'a claim appears in the runs that have it',
  );
});

test(`a series keeps its newest ${TREND_RUNS} runs and says how many more it has`, () => {
  const runs = Array.from({ length: TREND_RUNS + 5 }, (_, d) => scheduled(d, [claim('a', 1 + d / 1000, 'pass')]));
  const [s] = runSeries(runs.reverse());
  assert.equal(s!.runs.length, TREND_RUNS);
  assert.equal(s!.omitted, 5);
  assert.equal(s!.runs[0]!.time, day(5));
  assert.equal(s!.runs.at(-1)!.time, day(TREND_RUNS + 4));
});

test('the trend figure: a point and an interval per run coloured by verdict, the prediction dashed', async () => {
  const [s] = runSeries([
    scheduled(1, [claim('a', 1.02, 'pass')]),
    scheduled(2, [claim('a', 1.3, 'fail')]),
    scheduled(3, [claim('a', NaN, 'fail')]),
  ]);
  const [f, ...rest] = await renderTrendFigures(s!, 4);
  assert.equal(rest.length, 0, 'one figure per claim');
  assert.equal(f!.id, 'trend-4-a');
  assert.match(f!.svg, /^<svg/);
  const roles = (role: string) => f!.svg.split(`aria-roledescription="${role}"`).length - 1;
  assert.equal(roles('point'), 2, 'the finite measurements (the table shows the third)');
  assert.equal(roles('errorbar'), 2);
  assert.equal(roles('line mark'), 3, 'predicted, and it ± tolerance');
  assert.match(f!.svg, /a: 1\.02; verdict: pass/);
  assert.match(f!.svg, /a: 1\.3; verdict: fail/);
  assert.match(f!.svg, /fill="#22a34a"/, "pass in the badges' green");
  assert.match(f!.svg, /fill="#dc2626"/, "fail in the badges' red");
});

test('the trend table: runs newest first, each claim verdict and value, links only where asked', async () => {
  const [s] = runSeries([scheduled(1, [claim('a', 1.02, 'pass')]), scheduled(2, [claim('b', 3, 'inconclusive')])]);
  const plain = trendHtml(s!, [], { heading: 'h3' });
  assert.match(plain, /data-runs="2"/);
  const rows = [...plain.matchAll(/<tr data-run="([^"]+)">(.*?)<\/tr>/g)];
  assert.deepEqual(
    rows.map((r) => r[1]),
    [`sched-nightly-${day(2)}`, `sched-nightly-${day(1)}`],
  );
  assert.match(rows[0]![2]!, /data-claim="b" data-verdict="inconclusive">.*3 \[2\.95, 3\.05\] \(95%\)/);
  assert.match(rows[0]![2]!, /data-claim="a" class="small">no such claim/);
  assert.match(rows[1]![2]!, /data-claim="a" data-verdict="pass"/);
  assert.doesNotMatch(plain, /<a /);
  const linked = trendHtml(s!, [], { heading: 'h3', href: (id) => `x/${id}` });
  assert.match(linked, new RegExp(`<a href="x/sched-nightly-${day(2)}">`));
});

test("the stored index links each run to its report's key, relative to the index's own key", () => {
  const result = { ...scheduled(1, [claim('a', 1, 'pass')]), status: 'completed', seed: 1, backends: [] };
  const r = { ...result, summary: {}, codeVersion: 'v' } as unknown as Omit<RunResult, 'artifacts'>;
  const href = (id: string) => layout.linkFrom(layout.indexPage, layout.artifact(id, 'report.html'));
  const html = renderIndexHtml([r], { reportHref: href, trends: '<section class="trend"></section>' });
  const hrefs = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
  assert.deepEqual(hrefs, [`../runs/sched-nightly-${encodeURIComponent(day(1))}/artifacts/report.html`]);
  // Wherever the bucket is served, under any prefix, the link resolves to the report's key there.
  for (const base of ['http://s3.local/bucket/', 'http://s3.local/bucket/some/prefix/', 'file:///mirror/']) {
    const at = new URL(hrefs[0]!, new URL(layout.indexPage, base)).href;
    assert.equal(decodeURIComponent(at), base + layout.artifact(r.runId, 'report.html'));
  }
  assert.match(html, /<h2 id="trends">Trends<\/h2>\n<section class="trend">/);
  assert.doesNotMatch(renderIndexHtml([r]), /Trends/, 'no trends section without trends');
  assert.match(renderIndexHtml([r]), new RegExp(`href="sched-nightly-${encodeURIComponent(day(1))}/report.html"`));
  const unreported = renderIndexHtml([r], { reportHref: () => undefined });
  assert.doesNotMatch(unreported, /<a /, 'a run without a report is listed, not linked');
  assert.match(unreported, new RegExp(`<code>sched-nightly-${day(1)}</code>`));
  const report = renderHtmlReport(r, 't', [], '<section class="trend">T</section>');
  assert.match(
    report,
    /<h2 id="trend">Trend over the schedule's runs<\/h2>\n<section class="trend">T<\/section>\n<h2>Figures/,
  );
});
