import { tally, type Claim } from '../results/claims';
import type { RunResult } from '../results/run-result';

const num = (v: number): string => (Number.isFinite(v) ? Number(v.toPrecision(6)).toString() : String(v));

/** What a claim predicts, in words of its kind: `−0.02 ± 4e-4`, `< 0.6`, `< 0`, `≈ −40 ± 5`. */
export function predictionText(c: Claim): string {
  switch (c.kind) {
    case 'within': return `${num(c.predicted)} ± ${num(c.tolerance)}`;
    case 'below': return `< ${num(c.predicted)}`;
    case 'above': return `> ${num(c.predicted)}`;
    case 'sign': return c.side === 'positive' ? '> 0' : '< 0';
    case 'fit': return `${num(c.predicted)} (paper) ± ${num(c.tolerance)}`;
  }
}

/** The measured value with its interval where it has one. */
export function measurementText(c: Claim): string {
  const i = c.interval;
  return i ? `${num(c.measured)} [${num(i.lo)}, ${num(i.hi)}] (${Math.round(i.confidence * 100)}%)` : num(c.measured);
}

/** A Markdown report of a run: header, the claims table, plots, parameters. */
export function renderReport(result: Omit<RunResult, 'artifacts'>, title: string, plots: Array<{ file: string; caption: string }>): string {
  const t = tally(result.claims);
  const lines = [
    `# ${result.experiment}: ${title}`,
    '',
    `Run \`${result.runId}\` (preset \`${result.preset}\`, seed ${result.seed}), finished ${result.finishedAt}, `
      + `computed with ${result.backends.join(', ')}, code ${result.codeVersion}.`,
    '',
    `**${t.pass} of ${result.claims.length} claims pass, ${t.fail} fail, ${t.inconclusive} inconclusive.**`,
    '',
    '| claim | kind | paper | predicted | measured | verdict |',
    '|---|---|---|---|---|---|',
    ...result.claims.map((c) => `| ${c.id}: ${c.description}${c.toleranceBasis ? ` (tolerance: ${c.toleranceBasis})` : ''}`
      + `${c.note ? ` (${c.note})` : ''} | ${c.kind} | ${c.paper} | ${predictionText(c)} | ${measurementText(c)} | ${c.verdict} |`),
    '',
    ...plots.flatMap((p) => [`![${p.caption}](${p.file})`, '', `*${p.caption}*`, '']),
    '## Parameters',
    '',
    '```json',
    JSON.stringify(result.params, null, 2),
    '```',
    '',
  ];
  return lines.join('\n');
}
