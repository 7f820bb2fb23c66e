import type { RunResult } from '../results/run-result';

/** A Markdown report of a run: header, parameters, the claims table and linked plots. */
export function renderReport(result: Omit<RunResult, 'artifacts'>, title: string, plots: Array<{ file: string; caption: string }>): string {
  const passed = result.claims.filter((c) => c.verdict === 'pass').length;
  const num = (v: number): string => (Number.isFinite(v) ? Number(v.toPrecision(6)).toString() : String(v));
  const lines = [
    `# ${result.experiment}: ${title}`,
    '',
    `Run \`${result.runId}\` (preset \`${result.preset}\`, seed ${result.seed}), finished ${result.finishedAt}, computed with ${result.backend}, code ${result.codeVersion}.`,
    '',
    `**${passed} of ${result.claims.length} claims hold.**`,
    '',
    '| claim | paper | predicted | measured | tolerance | verdict |',
    '|---|---|---|---|---|---|',
    ...result.claims.map((c) => `| ${c.id}: ${c.description} | ${c.paper} | ${num(c.predicted)} | ${num(c.measured)} | ${num(c.tolerance)} | ${c.verdict} |`),
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
