/**
 * A series' per-claim trend as HTML (the index shows one per series, a scheduled run's report
 * its schedule's up to that run): a table of the runs, newest first, with each claim's verdict
 * and measured value, then each claim's trend figure.
 */
import { seriesTitle, type RunSeries } from '../results/claim-trend';
import { esc, figuresHtml, verdictBadge, type ReportFigure } from './html-report';
import { renderSvg } from './render-svg';
import { claimTrendFigure } from './trend-figure';

/** The trend figures of a series, rendered; `n` numbers the series in its page (figure ids are unique there). */
export async function renderTrendFigures(series: RunSeries, n: number): Promise<ReportFigure[]> {
  const out: ReportFigure[] = [];
  for (const c of series.claims) {
    const f = claimTrendFigure(series, c, `trend-${n}-${c.id}`);
    out.push({ id: f.id, title: f.title, caption: f.caption, svg: await renderSvg(f.spec) });
  }
  return out;
}

/**
 * The trend section of a series: heading, runs table, figures. `href` links each run to its
 * report (omitted: run ids as text); `heading` is the section heading's tag.
 */
export function trendHtml(
  series: RunSeries,
  figures: readonly ReportFigure[],
  o: { href?: (runId: string) => string | undefined; heading: 'h2' | 'h3'; title?: string },
): string {
  const head = series.claims.map((c) => `<th>${esc(c.id)}</th>`).join('');
  const rows = [...series.runs].reverse().map((r) => {
    const cells = series.claims.map((c) => {
      const p = c.points.find((q) => q.runId === r.runId);
      return p
        ? `<td data-claim="${esc(c.id)}" data-verdict="${p.verdict}">${verdictBadge(p.verdict)}` +
            `<br><span class="num small">${esc(p.text)}</span></td>`
        : `<td data-claim="${esc(c.id)}" class="small">no such claim</td>`;
    });
    const link = o.href?.(r.runId);
    const id = link ? `<a href="${esc(link)}">${esc(r.runId)}</a>` : `<code>${esc(r.runId)}</code>`;
    return `<tr data-run="${esc(r.runId)}"><td>${id}</td><td class="num">${esc(r.time)}</td>${cells.join('')}</tr>`;
  });
  const more = series.omitted ? `, the newest of ${series.runs.length + series.omitted}` : '';
  return (
    `<section class="trend" data-series="${esc(series.key)}" data-runs="${series.runs.length}">\n` +
    `<${o.heading}>${esc(o.title ?? seriesTitle(series))}</${o.heading}>\n` +
    `<p class="small">${series.runs.length} runs${more}, newest first; each claim's verdict and measured value.</p>\n` +
    `<table class="trend-runs"><thead><tr><th>run</th><th>time</th>${head}</tr></thead>\n` +
    `<tbody>${rows.join('\n')}</tbody></table>\n` +
    `${figuresHtml(figures, 'No claim to show.')}\n</section>`
  );
}
