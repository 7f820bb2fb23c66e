/**
 * The report of a run as one self-contained HTML page (no scripts, no network: styles inline,
 * figures as inline SVG): the claims table first, then the paper's figures, the parameters,
 * substitutions, backends, code version and timings. And an index page of many runs.
 */
import { tally, type Claim } from '../results/claims';
import type { RunResult } from '../results/run-result';
import { measurementText, predictionText } from './claim-text';

/** Text as HTML: the five characters that could break out of text or an attribute, escaped. */
export const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const num = (v: number): string => (Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v));

/** The reports' style sheet (run report, index, comparison). */
export const STYLE =
  '\n' +
  'body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;' +
  'padding:0 1em;color:#222;line-height:1.45}\n' +
  'h1{font-size:1.5em;margin-bottom:.2em} ' +
  'h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}\n' +
  '.meta{color:#555;font-size:.92em} table{border-collapse:collapse;width:100%;font-size:.9em;margin:.6em 0}\n' +
  'th,td{border:1px solid #ddd;padding:.35em .5em;vertical-align:top;text-align:left} th{background:#f5f5f5}\n' +
  'td.num{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:nowrap}\n' +
  '.v{font-weight:600;padding:.1em .5em;border-radius:3px;display:inline-block}\n' +
  '.pass{background:#d9f2dd;color:#14532d} .fail{background:#fbd5d5;color:#7f1d1d} ' +
  '.inconclusive{background:#fdf0c4;color:#713f12}\n' +
  'tr.pass td:first-child{border-left:4px solid #22a34a} tr.fail td:first-child{border-left:4px solid #dc2626}\n' +
  'tr.inconclusive td:first-child{border-left:4px solid #d9a406}\n' +
  '.small{color:#666;font-size:.88em} figure{margin:1.2em 0} figcaption{color:#444;font-size:.9em}\n' +
  '.subst{background:#fff7e6;border:1px solid #f0d9a8;padding:.6em .8em;border-radius:4px}\n' +
  'pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}\n';

/** A verdict as a coloured badge. */
export function verdictBadge(v: Claim['verdict']): string {
  return `<span class="v ${v}">${v}</span>`;
}

/** The claims table: claim, kind, paper, predicted, measured, tolerance, verdict. */
export function claimsTable(claims: readonly Claim[]): string {
  const rows = claims.map(
    (c) =>
      `<tr class="${c.verdict}" data-verdict="${c.verdict}">\n` +
      `<td><b>${esc(c.id)}</b><br><span class="small">${esc(c.description)}</span>` +
      `${c.note ? `<br><span class="small"><i>${esc(c.note)}</i></span>` : ''}</td>\n` +
      `<td>${esc(c.kind)}</td><td>${esc(c.paper)}</td>` +
      `<td class="num">${esc(predictionText(c))}</td><td class="num">${esc(measurementText(c))}</td>\n` +
      `<td class="num">${c.kind === 'within' || c.kind === 'fit' ? esc(num(c.tolerance)) : '–'}` +
      `${c.toleranceBasis ? `<br><span class="small">${esc(c.toleranceBasis)}</span>` : ''}</td>\n` +
      `<td>${verdictBadge(c.verdict)}</td></tr>`,
  );
  return (
    `<table id="claims"><thead><tr><th>claim</th><th>kind</th><th>paper</th><th>predicted</th>` +
    `<th>measured</th><th>tolerance</th><th>verdict</th></tr></thead>\n` +
    `<tbody>${rows.join('\n')}</tbody></table>`
  );
}

export interface ReportFigure {
  id: string;
  title: string;
  caption: string;
  svg: string;
}

/** Rendered figures, each with its caption; `none` when there are none. */
export function figuresHtml(figures: readonly ReportFigure[], none: string): string {
  return (
    figures
      .map(
        (f) =>
          `<figure id="figure-${esc(f.id)}" class="plot">${f.svg}` +
          `<figcaption><b>${esc(f.title)}.</b> ${esc(f.caption)}</figcaption></figure>`,
      )
      .join('\n') || `<p>${esc(none)}</p>`
  );
}

/**
 * A run's report page; `trend` is the HTML of its schedule's trend up to this run (see
 * trend-report.ts), shown after the claims.
 */
export function renderHtmlReport(
  result: Omit<RunResult, 'artifacts'>,
  title: string,
  figures: readonly ReportFigure[],
  trend?: string,
): string {
  const t = tally(result.claims);
  const time = result.summary.time as
    { wallSeconds?: number; computeSeconds?: number; computeSecondsByStage?: Record<string, number> } | undefined;
  const params = Object.entries(result.params).map(
    ([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${esc(Array.isArray(v) ? v.join(', ') : v)}</td></tr>`,
  );
  const subst = result.substitutions ?? [];
  return (
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(result.experiment)}: ${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body>
<h1>${esc(result.experiment)}: ${esc(title)}</h1>
<p class="meta">Run <code>${esc(result.runId)}</code>, preset <code>${esc(result.preset)}</code>, ` +
    `seed ${esc(result.seed)}, finished ${esc(result.finishedAt)}.</p>
<p id="verdicts">${verdictBadge('pass')} ${t.pass} &nbsp; ${verdictBadge('fail')} ${t.fail} &nbsp; ` +
    `${verdictBadge('inconclusive')} ${t.inconclusive} &nbsp; of ${result.claims.length} claims</p>
${
  result.schedule
    ? `<p id="schedule">Started by schedule <code>${esc(result.schedule)}</code>${
        result.regressions === undefined
          ? ' (its first run)'
          : result.regressions.length
            ? `: <b class="fail">regression</b>, ` +
              `claims that passed in the schedule's previous run and do not now: ` +
              `${result.regressions.map((id) => `<code>${esc(id)}</code>`).join(', ')}`
            : ': no regression against its previous run'
      }.</p>`
    : ''
}
${
  subst.length
    ? `<div class="subst" id="substitutions"><b>Substitutions</b> (where this run departs from the paper's setting):` +
      `<ul>${subst.map((s) => `<li>${esc(s)}</li>`).join('')}</ul></div>`
    : ''
}
<h2>Claims</h2>
${claimsTable(result.claims)}
${trend ? `<h2 id="trend">Trend over the schedule's runs</h2>\n${trend}` : ''}
<h2>Figures</h2>
${figuresHtml(figures, 'No figures.')}
<h2>Parameters</h2>
<table id="parameters"><tbody>${params.join('')}</tbody></table>
<h2>Provenance</h2>
<table><tbody>
<tr><td>numeric backends</td><td>${esc(result.backends.join(', '))}</td></tr>
<tr><td>code</td><td><code>${esc(result.codeVersion)}</code></td></tr>
${time?.wallSeconds !== undefined ? `<tr><td>wall time</td><td>${esc(time.wallSeconds)} s</td></tr>` : ''}
${
  time?.computeSeconds !== undefined
    ? `<tr><td>numerics</td><td>${esc(time.computeSeconds)} s${
        time.computeSecondsByStage
          ? ` (${Object.entries(time.computeSecondsByStage)
              .map(([k, v]) => `${esc(k)} ${esc(v)}`)
              .join(', ')})`
          : ''
      }</td></tr>`
    : ''
}
</tbody></table>
</body></html>
`
  );
}

/** Where a page finds a run's report: `<runId>/report.html`, as `repro report` writes them into a folder. */
export const localReportHref = (runId: string): string => `${encodeURIComponent(runId)}/report.html`;

/**
 * One page listing runs, newest first, each linking to its report at `reportHref(runId)` (default
 * {@link localReportHref}; undefined: no link); `trends` is the HTML of the series' trends (see trend-report.ts).
 */
export function renderIndexHtml(
  results: ReadonlyArray<Omit<RunResult, 'artifacts'>>,
  o: { reportHref?: (runId: string) => string | undefined; trends?: string } = {},
): string {
  const href = o.reportHref ?? localReportHref;
  // A run without a report (its index entry names none) is listed, not linked.
  const link = (runId: string): string => {
    const h = href(runId);
    return h ? `<a href="${esc(h)}">${esc(runId)}</a>` : `<code>${esc(runId)}</code>`;
  };
  const rows = [...results]
    .sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))
    .map((r) => {
      const t = tally(r.claims);
      return (
        `<tr><td>${link(r.runId)}</td>` +
        `<td>${esc(r.experiment)}</td><td>${esc(r.preset)}</td>\n` +
        `<td>${esc(r.finishedAt)}</td><td>${t.pass}</td><td>${t.fail}</td><td>${t.inconclusive}</td>` +
        `<td>${(r.substitutions ?? []).length ? 'yes' : ''}</td></tr>`
      );
    });
  return (
    `<!doctype html>\n` +
    `<html lang="en"><head><meta charset="utf-8"><title>repro: runs</title><style>${STYLE}</style></head>\n` +
    `<body><h1>Reproduction runs</h1>\n` +
    `<table id="runs"><thead><tr><th>run</th><th>experiment</th><th>preset</th><th>finished</th>` +
    `<th>pass</th><th>fail</th><th>inconclusive</th><th>substitutions</th></tr></thead>\n` +
    `<tbody>${rows.join('\n')}</tbody></table>\n` +
    (o.trends ? `<h2 id="trends">Trends</h2>\n${o.trends}\n` : '') +
    `</body></html>\n`
  );
}
