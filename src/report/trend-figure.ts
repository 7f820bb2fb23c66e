/**
 * One claim across the runs of a series as a figure: the measured value of each run with its
 * interval, coloured by the run's verdict, against the time of the run, with the prediction
 * (value and tolerance, or bound) as dashed lines. A {@link scatterFigure}, rendered as every figure is.
 */
import type { ClaimTrend, RunSeries } from '../results/claim-trend';
import { seriesTitle } from '../results/claim-trend';
import type { Claim } from '../results/claims';
import { scatterFigure, type Figure, type Row } from './figures';

/** The verdicts' colours, as the reports' badges show them. */
export const VERDICT_COLORS: Record<Claim['verdict'], string> = {
  pass: '#22a34a',
  fail: '#dc2626',
  inconclusive: '#d9a406',
};

/** What the newest run's claim is read against, as horizontal lines. */
function predictionLines(c: Claim): Array<{ label: string; slope: number; intercept: number }> {
  const at = (label: string, y: number) => ({ label, slope: 0, intercept: y });
  switch (c.kind) {
    case 'within':
    case 'fit':
      return [
        at('predicted', c.predicted),
        at('+ tolerance', c.predicted + c.tolerance),
        at('− tolerance', c.predicted - c.tolerance),
      ];
    case 'below':
    case 'above':
      return [at('bound', c.predicted)];
    case 'sign':
      return [at('zero', 0)];
  }
}

/** The trend of claim `c` of `series`; `id` names the figure in its page. */
export function claimTrendFigure(series: RunSeries, c: ClaimTrend, id: string): Figure {
  const data: Row[] = c.points
    .filter((p) => Number.isFinite(p.measured))
    .map((p) => ({
      time: Date.parse(p.time),
      run: p.runId,
      verdict: p.verdict,
      measured: p.measured,
      lo: p.interval?.lo ?? p.measured,
      hi: p.interval?.hi ?? p.measured,
    }));
  const conf = c.latest.interval ? ` with its ${Math.round(c.latest.interval.confidence * 100)}% interval` : '';
  return scatterFigure({
    id,
    title: `${c.id} over ${series.runs.length} runs`,
    caption:
      `Each run of ${seriesTitle(series)}: the measured value${conf}, coloured by verdict; dashed: what ` +
      `the newest run's claim is read against. The claim: ${c.description}`,
    data,
    x: { field: 'time', title: 'run (UTC)', type: 'temporal', scale: { type: 'utc', padding: 16 } },
    y: { field: 'measured', title: c.id },
    series: 'verdict',
    colors: VERDICT_COLORS,
    err: { lo: 'lo', hi: 'hi' },
    lines: predictionLines(c.latest),
  });
}
