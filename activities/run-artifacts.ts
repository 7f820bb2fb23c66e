import type { Figure } from '../src/report/figures';
import { renderHtmlReport } from '../src/report/html-report';
import { renderSvg } from '../src/report/render-svg';
import { renderTrendFigures, trendHtml } from '../src/report/trend-report';
import { runSeries, TREND_RUNS } from '../src/results/claim-trend';
import type { RunResult } from '../src/results/run-result';
import { scheduledRunsPrefix, scheduleOfRun } from '../src/runs/ids';
import { layout } from '../src/storage/layout';
import { ObjectNotFoundError } from '../src/storage/object-store';
import type { ActivityDeps } from './deps';
import { nonRetryable } from './failures';

/** An artifact to store beside the report (raw series, paths, unit outputs). */
export interface ExtraArtifact {
  name: string;
  body: string;
  contentType: string;
}

/** What makes two results the same run's: its experiment, preset, parameters and seed. */
const sameRun = (a: Omit<RunResult, 'artifacts'>, b: Omit<RunResult, 'artifacts'>): boolean =>
  JSON.stringify([a.experiment, a.preset, a.params, a.seed]) ===
  JSON.stringify([b.experiment, b.preset, b.params, b.seed]);

/** A run's stored result without its bulky fields, or undefined when it has none yet. */
async function storedResult(
  deps: ActivityDeps,
  runId: string,
  bulky: Record<string, unknown>,
): Promise<RunResult | undefined> {
  let stored: RunResult & Record<string, unknown>;
  try {
    stored = JSON.parse(Buffer.from(await deps.store.get(layout.result(runId))).toString('utf8'));
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
  for (const k of Object.keys(bulky)) delete stored[k];
  return stored;
}

/**
 * Write a finished run's artifacts: every figure as SVG, the HTML report (figures inline), the
 * extra artifacts, then `result.json` (with the bulky fields) and the run's index entry last, so
 * their presence means every artifact is complete. A result is written once: when the run has
 * one already (a retry after the write, or a second attempt at once), that one is returned and
 * nothing is rewritten; a stored result of other inputs under the same run id is a non-retryable
 * `InputMismatch`, never overwritten. Returns the result with its artifact URLs.
 */
export async function writeRunArtifacts(
  deps: ActivityDeps,
  base: Omit<RunResult, 'artifacts'>,
  title: string,
  figures: readonly Figure[],
  extras: readonly ExtraArtifact[] = [],
  /** Fields that go into result.json only (a projected path's rows), not into payloads or the index. */
  bulky: Record<string, unknown> = {},
): Promise<RunResult> {
  const { runId } = base;
  const settled = async (): Promise<RunResult | undefined> => {
    const stored = await storedResult(deps, runId, bulky);
    if (stored && !sameRun(stored, base)) {
      throw nonRetryable(
        `run ${runId} already has a result of other inputs (${stored.experiment}, preset ${stored.preset}, ` +
          `seed ${stored.seed}); results are written once: start a run with a new id`,
        'InputMismatch',
      );
    }
    return stored;
  };
  const indexed = async (r: RunResult): Promise<RunResult> => {
    // Derived from the result, so rewriting it is harmless: a retry after a crash between the two writes completes it.
    await deps.store.put(layout.indexEntry(runId), Buffer.from(JSON.stringify(r)), 'application/json');
    return r;
  };
  const before = await settled();
  if (before) return indexed(before);
  const schedule = scheduleOfRun(runId);
  let trend: string | undefined;
  if (schedule) {
    const earlier = await earlierRuns(deps, schedule, runId);
    base = { ...base, schedule, regressions: regressionsSince(earlier.at(-1), base.claims) };
    // The schedule's trend up to this run, once there is one. Run ids as text: a link from a
    // report would not resolve both in S3 and in the folder `repro report` writes.
    if (earlier.length) {
      const series = runSeries([...earlier, base])[0]!;
      trend = trendHtml(series, await renderTrendFigures(series, 0), { heading: 'h3' });
    }
  }
  const artifacts: Record<string, string> = {
    result: deps.store.url(layout.result(runId)),
    report: deps.store.url(layout.artifact(runId, 'report.html')),
  };
  const rendered = [];
  for (const f of figures) {
    const svg = await renderSvg(f.spec);
    await deps.store.put(layout.artifact(runId, `${f.id}.svg`), Buffer.from(svg), 'image/svg+xml');
    artifacts[`figure:${f.id}`] = deps.store.url(layout.artifact(runId, `${f.id}.svg`));
    // The Vega-Lite spec with its data inlined: re-plot or restyle a figure without re-running.
    const spec = Buffer.from(JSON.stringify(f.spec, null, 1));
    await deps.store.put(layout.artifact(runId, `${f.id}.vl.json`), spec, 'application/json');
    rendered.push({ id: f.id, title: f.title, caption: f.caption, svg });
  }
  for (const e of extras) {
    await deps.store.put(layout.artifact(runId, e.name), Buffer.from(e.body), e.contentType);
    artifacts[e.name.replace(/\.[a-z]+$/, '')] = deps.store.url(layout.artifact(runId, e.name));
  }
  await deps.store.put(
    layout.artifact(runId, 'report.html'),
    Buffer.from(renderHtmlReport(base, title, rendered, trend)),
    'text/html; charset=utf-8',
  );
  const result: RunResult = { ...base, artifacts };
  const body = Buffer.from(JSON.stringify({ ...result, ...bulky }, null, 2));
  if (!(await deps.store.putIfAbsent(layout.result(runId), body, 'application/json'))) {
    // Another attempt committed first: its result stands (and writes the index entry).
    return indexed((await settled())!);
  }
  return indexed(result);
}

/**
 * The finished runs of `schedule` before `runId` (by scheduled time, which its run ids hold), the
 * newest {@link TREND_RUNS} − 1, oldest first: with this run, its trend.
 */
async function earlierRuns(deps: ActivityDeps, schedule: string, runId: string): Promise<RunResult[]> {
  const ids = (await deps.store.list(layout.indexEntries(scheduledRunsPrefix(schedule))))
    .map(layout.runOfIndexEntry)
    .filter((id) => scheduleOfRun(id) === schedule && id < runId)
    .sort()
    .slice(-(TREND_RUNS - 1));
  const runs: RunResult[] = [];
  for (const id of ids) {
    const r = JSON.parse(Buffer.from(await deps.store.get(layout.indexEntry(id))).toString('utf8')) as RunResult;
    runs.push({ ...r, schedule });
  }
  return runs;
}

/**
 * Claims that passed in the schedule's previous finished run and do not pass now; undefined when
 * there is no previous run.
 */
function regressionsSince(previous: RunResult | undefined, claims: RunResult['claims']): string[] | undefined {
  if (!previous) return undefined;
  const passed = new Set(previous.claims.filter((c) => c.verdict === 'pass').map((c) => c.id));
  return claims.filter((c) => c.verdict !== 'pass' && passed.has(c.id)).map((c) => c.id);
}
