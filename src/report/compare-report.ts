/**
 * The comparison of two runs as one self-contained HTML page, styled as the run report: both
 * runs' claims side by side with a marker where the verdict changed, the settings that differ,
 * and each figure both runs have with the two overlaid (inline SVG, no scripts, no network).
 */
import { settingText, type ClaimSide, type RunComparison } from '../results/run-comparison';
import { esc, figuresHtml, STYLE, verdictBadge, type ReportFigure } from './html-report';

// The claim's description wraps in a column wide enough to read; the measured values do not wrap.
const EXTRA_STYLE =
  '#claims td:first-child{width:34%} ' +
  'tr.changed td:first-child{border-left:4px solid #7c3aed} .changed-mark{color:#7c3aed;font-weight:600}\n';

function sideCells(s: ClaimSide | undefined): string {
  return s
    ? `<td class="num">${esc(s.text)}</td><td>${verdictBadge(s.verdict)}</td>`
    : '<td class="small">no such claim</td><td>–</td>';
}

/** The claims of both runs: claim, A measured, A verdict, B measured, B verdict, changed. */
export function comparisonTable(c: RunComparison): string {
  const rows = c.claims.map(
    (k) =>
      `<tr class="${k.changed ? 'changed' : 'same'}" data-claim="${esc(k.id)}" data-changed="${k.changed}">` +
      `<td><b>${esc(k.id)}</b><br><span class="small">${esc(k.description)}</span></td>` +
      `${sideCells(k.a)}${sideCells(k.b)}` +
      `<td>${k.changed ? `<span class="changed-mark">changed</span>` : ''}</td></tr>`,
  );
  return (
    `<table id="claims"><thead><tr><th>claim</th><th>A measured</th><th>A verdict</th>` +
    `<th>B measured</th><th>B verdict</th><th>verdict</th></tr></thead>\n<tbody>${rows.join('\n')}</tbody></table>`
  );
}

/** The comparison page; `figures` are the overlaid figures, already rendered. */
export function renderCompareHtml(c: RunComparison, title: string, figures: readonly ReportFigure[]): string {
  const diffs = [
    ...c.differences.map((d) => [d.key, settingText(d.a), settingText(d.b)]),
    ...(c.codeVersion ? [['code version', c.codeVersion.a, c.codeVersion.b]] : []),
    ...(c.backends ? [['numeric backends', c.backends.a.join(', '), c.backends.b.join(', ')]] : []),
  ];
  const run = (label: string, r: RunComparison['a']): string =>
    `<tr><td>${label}</td><td><code class="run-id">${esc(r.runId)}</code></td><td>${esc(r.preset)}</td>` +
    `<td>${esc(r.seed)}</td><td><code>${esc(r.codeVersion)}</code></td><td>${esc(r.backends.join(', '))}</td></tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(c.experiment)}: ${esc(c.a.runId)} vs ${esc(c.b.runId)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}${EXTRA_STYLE}</style></head>
<body>
<h1>${esc(c.experiment)}: two runs compared</h1>
<p class="meta">${esc(title)}</p>
<table id="runs"><thead><tr><th></th><th>run</th><th>preset</th><th>seed</th><th>code</th><th>backends</th></tr></thead>
<tbody>${run('A', c.a)}${run('B', c.b)}</tbody></table>
<h2>Claims</h2>
${comparisonTable(c)}
<h2>What differs</h2>
${
  diffs.length
    ? `<table id="differences"><thead><tr><th>setting</th><th>A</th><th>B</th></tr></thead><tbody>` +
      diffs
        .map(([k, a, b]) => `<tr><td>${esc(k)}</td><td class="num">${esc(a)}</td><td class="num">${esc(b)}</td></tr>`)
        .join('') +
      '</tbody></table>'
    : '<p id="differences">Same parameters, preset, seed, code version and backends.</p>'
}
<h2>Figures</h2>
${figuresHtml(figures, 'No figure that both runs have.')}
</body></html>
`;
}
