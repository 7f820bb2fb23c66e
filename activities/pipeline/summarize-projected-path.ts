import type { PipelineParams } from '../../src/experiments/projected-path/definition';
import { projectedPathClaims, seedTraceSlopes, traceByEpoch } from '../../src/experiments/projected-path/analysis';
import { renderReport } from '../../src/report/claims-report';
import { renderLinePlot } from '../../src/report/svg-plot';
import type { RunResult } from '../../src/results/run-result';
import { keys, type ActivityDeps } from '../deps';
import { readPathRows, type PathCountsTotal, type PathRow, type SeedPathStats, type StageComputeMs } from './path-rows';

export interface SummarizePathInput {
  runId: string;
  experiment: string;
  preset: string;
  params: PipelineParams;
  seed: number;
  counts: PathCountsTotal;
  computeMs: StageComputeMs;
  wallMs: number;
  /** Per seed: points, bisection depth, connected and unconnected pairs, backends. */
  seeds: SeedPathStats[];
}

/** A finished projected-path run; the workflow's copy leaves out `path` (see result.json). */
export type ProjectedPathResult = RunResult & { path?: PathRow[]; counts: PathCountsTotal };

/**
 * fig1/fig3 from the projected paths (claims in src/experiments/projected-path/analysis.ts).
 * Writes path.json, the plot, the report and result.json; the backends recorded are those the
 * stages reported, not this worker's.
 */
export function makeSummarizeProjectedPath(deps: ActivityDeps) {
  return async function summarizeProjectedPath(input: SummarizePathInput): Promise<ProjectedPathResult> {
    const { runId, params } = input;
    const rows = await readPathRows(deps.store, runId);
    const claims = projectedPathClaims(params, rows, input.seeds);
    const byEpoch = traceByEpoch(rows);
    const slopes = new Map(seedTraceSlopes(rows).map((s) => [s.seed, s.slope]));
    const perSeed = input.seeds.map((s) => ({ ...s, traceSlope: slopes.get(s.seed) ?? null }));
    const withStd = byEpoch.filter((e) => e.std !== null);
    const svg = renderLinePlot({
      title: `Hessian trace along projected SGD paths (${params.model}, ${params.dataset}, ${params.seeds} seeds)`, xLabel: 'epoch', yLabel: 'trace',
      series: [
        { label: 'mean over seeds', x: byEpoch.map((e) => e.epoch), y: byEpoch.map((e) => e.mean), color: '#1f77b4' },
        ...(withStd.length ? [
          { label: 'mean + std', x: withStd.map((e) => e.epoch), y: withStd.map((e) => e.mean + e.std!), color: '#aec7e8', dashed: true },
          { label: 'mean − std', x: withStd.map((e) => e.epoch), y: withStd.map((e) => e.mean - e.std!), color: '#aec7e8', dashed: true },
        ] : []),
      ],
    });
    const backends = [...new Set(input.seeds.flatMap((s) => s.backends))].sort();
    const base = {
      runId, experiment: input.experiment, preset: input.preset, status: 'completed' as const, params: params as unknown as Record<string, unknown>,
      seed: input.seed, backends, claims, codeVersion: deps.codeVersion, finishedAt: new Date().toISOString(),
      summary: { perSeed, traceByEpoch: byEpoch, points: rows.length, time: timeSummary(input.wallMs, input.computeMs) },
    };
    await deps.store.put(keys.artifact(runId, 'path.json'), Buffer.from(JSON.stringify(rows)), 'application/json');
    await deps.store.put(keys.artifact(runId, 'trace-along-path.svg'), Buffer.from(svg), 'image/svg+xml');
    const caption = 'Hessian trace along the projected paths: per-seed epoch means, then mean ± std over seeds';
    await deps.store.put(keys.artifact(runId, 'report.md'), Buffer.from(renderReport(base, 'Projected SGD paths and the Hessian trace', [{ file: 'trace-along-path.svg', caption }])), 'text/markdown');
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
