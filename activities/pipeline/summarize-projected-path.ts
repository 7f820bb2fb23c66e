import type { PipelineParams } from '../../src/experiments/projected-path/definition';
import { slope } from '../../src/experiments/fig7/analysis';
import { renderReport } from '../../src/report/claims-report';
import { renderLinePlot } from '../../src/report/svg-plot';
import { claim, type RunResult } from '../../src/results/run-result';
import { selectBackend } from '../../src/engine/backend';
import { keys, type ActivityDeps } from '../deps';
import { readPathRows, type PathCountsTotal, type PathRow, type StageComputeMs } from './path-rows';

export interface SummarizePathInput {
  runId: string;
  experiment: string;
  preset: string;
  params: PipelineParams;
  seed: number;
  counts: PathCountsTotal;
  computeMs: StageComputeMs;
  wallMs: number;
}

/** A finished projected-path run; the workflow's copy leaves out `path` (see result.json). */
export type ProjectedPathResult = RunResult & { path?: PathRow[]; counts: PathCountsTotal };

/**
 * fig1/fig3 from the projected paths: the projected points' training loss stays below the
 * threshold, and the trace along the path falls (slope of the per-epoch mean trace against
 * epoch, with its spread over seeds). Writes path.json, the plot, the report and result.json.
 */
export function makeSummarizeProjectedPath(deps: ActivityDeps) {
  return async function summarizeProjectedPath(input: SummarizePathInput): Promise<ProjectedPathResult> {
    const { runId, params } = input;
    const rows = await readPathRows(deps.store, runId);
    const traced = rows.filter((r) => r.trace !== null);
    const byEpoch = new Map<number, number[]>();
    for (const r of traced) byEpoch.set(Math.round(r.epoch), [...(byEpoch.get(Math.round(r.epoch)) ?? []), r.trace!]);
    const epochs = [...byEpoch.keys()].sort((a, b) => a - b);
    const mean = epochs.map((e) => byEpoch.get(e)!.reduce((a, b) => a + b, 0) / byEpoch.get(e)!.length);
    const std = epochs.map((e, i) => { const xs = byEpoch.get(e)!; return Math.sqrt(xs.reduce((a, x) => a + (x - mean[i]!) ** 2, 0) / Math.max(1, xs.length - 1)); });
    const trend = epochs.length >= 2 ? slope(epochs, mean) : NaN;
    const maxLoss = Math.max(...rows.map((r) => r.trainLoss));
    const claims = [
      claim({ id: 'path-in-minimal-valley', description: `every projected point has training loss in [0, ${params.threshold}], the threshold (measured: the largest; predicted: the middle of that range, tolerance: half its width)`, paper: 'fig. 1', predicted: params.threshold / 2, measured: maxLoss, tolerance: params.threshold / 2 }),
      claim({ id: 'trace-decreases', description: 'the mean Hessian trace along the projected paths falls with epoch (least-squares slope per epoch; predicted: negative)', paper: 'fig. 3, Theorem 1', predicted: -Math.abs(trend), measured: trend, tolerance: trend < 0 ? 0 : Math.abs(trend) / 2 }),
    ];
    const svg = renderLinePlot({
      title: `Hessian trace along projected SGD paths (${params.model}, ${params.dataset}, ${params.seeds} seeds)`, xLabel: 'epoch', yLabel: 'trace',
      series: [
        { label: 'mean', x: epochs, y: mean, color: '#1f77b4' },
        { label: 'mean + std', x: epochs, y: mean.map((m, i) => m + std[i]!), color: '#aec7e8', dashed: true },
        { label: 'mean − std', x: epochs, y: mean.map((m, i) => m - std[i]!), color: '#aec7e8', dashed: true },
      ],
    });
    const { info } = await selectBackend(deps.config.backend);
    const base = {
      runId, experiment: input.experiment, preset: input.preset, status: 'completed' as const, params: params as unknown as Record<string, unknown>,
      seed: input.seed, backend: `${info.name} (${info.package})`, claims, codeVersion: deps.codeVersion, finishedAt: new Date().toISOString(),
      summary: { traceByEpoch: epochs.map((e, i) => ({ epoch: e, mean: mean[i], std: std[i] })), points: rows.length, time: timeSummary(input.wallMs, input.computeMs) },
    };
    await deps.store.put(keys.artifact(runId, 'path.json'), Buffer.from(JSON.stringify(rows)), 'application/json');
    await deps.store.put(keys.artifact(runId, 'trace-along-path.svg'), Buffer.from(svg), 'image/svg+xml');
    await deps.store.put(keys.artifact(runId, 'report.md'), Buffer.from(renderReport(base, 'Projected SGD paths and the Hessian trace', [{ file: 'trace-along-path.svg', caption: 'Hessian trace along the projected paths, mean ± std over seeds' }])), 'text/markdown');
    const result = {
      ...base, path: rows, counts: input.counts,
      artifacts: {
        result: deps.store.url(keys.result(runId)), report: deps.store.url(keys.artifact(runId, 'report.md')),
        plot: deps.store.url(keys.artifact(runId, 'trace-along-path.svg')), path: deps.store.url(keys.artifact(runId, 'path.json')),
      },
    };
    await deps.store.put(keys.result(runId), Buffer.from(JSON.stringify(result, null, 2)), 'application/json');
    const { path: _path, ...withoutPath } = result;
    return withoutPath;
  };
}

/** Wall time of the run and seconds of numerics per stage (summed over workers, so it can exceed wall time). */
function timeSummary(wallMs: number, computeMs: StageComputeMs): { wallSeconds: number; computeSeconds: number; computeSecondsByStage: Record<keyof StageComputeMs, number> } {
  const s = (ms: number): number => Math.round(ms) / 1000;
  const total = Object.values(computeMs).reduce((a, b) => a + b, 0);
  return {
    wallSeconds: s(wallMs), computeSeconds: s(total),
    computeSecondsByStage: Object.fromEntries(Object.entries(computeMs).map(([k, v]) => [k, s(v)])) as Record<keyof StageComputeMs, number>,
  };
}
