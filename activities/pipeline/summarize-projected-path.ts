import type { PipelineParams } from '../../src/experiments/projected-path/definition';
import { projectedPathClaims, seedTraceSlopes, traceByEpoch } from '../../src/experiments/projected-path/analysis';
import { findExperiment } from '../../src/experiments/registry';
import type { Figure } from '../../src/experiments/study';
import { lineFigure } from '../../src/report/figures';
import type { RunResult } from '../../src/results/run-result';
import type { ActivityDeps } from '../deps';
import { writeRunArtifacts } from '../run-artifacts';
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
 * fig1/fig3 (and fig4) from the projected paths (claims in src/experiments/projected-path/
 * analysis.ts): the figures, the report, path.json and result.json (with the rows). The
 * backends recorded are those the stages reported, not this worker's.
 */
export function makeSummarizeProjectedPath(deps: ActivityDeps) {
  return async function summarizeProjectedPath(input: SummarizePathInput): Promise<ProjectedPathResult> {
    const { runId, params } = input;
    const rows = await readPathRows(deps.store, runId);
    const claims = projectedPathClaims(params, rows, input.seeds);
    const byEpoch = traceByEpoch(rows);
    const slopes = new Map(seedTraceSlopes(rows).map((s) => [s.seed, s.slope]));
    const perSeed = input.seeds.map((s) => ({ ...s, traceSlope: slopes.get(s.seed) ?? null }));
    const experiment = findExperiment(input.experiment);
    const base = {
      runId,
      experiment: input.experiment,
      preset: input.preset,
      status: 'completed' as const,
      params: params as unknown as Record<string, unknown>,
      seed: input.seed,
      backends: [...new Set(input.seeds.flatMap((s) => s.backends))].sort(),
      claims,
      substitutions: experiment.substitutions?.(params as never) ?? [],
      codeVersion: deps.codeVersion,
      finishedAt: new Date().toISOString(),
      summary: {
        perSeed,
        traceByEpoch: byEpoch,
        points: rows.length,
        time: timeSummary(input.wallMs, input.computeMs),
      },
    };
    const figures = pathFigures(params, rows, byEpoch);
    // fig3 is about the trace: its figure first.
    if (input.experiment === 'fig3') figures.reverse();
    const result = await writeRunArtifacts(
      deps,
      base,
      experiment.title,
      figures,
      [{ name: 'path.json', body: JSON.stringify(rows), contentType: 'application/json' }],
      { path: rows, counts: input.counts },
    );
    return { ...result, counts: input.counts };
  };
}

/** fig1's losses along the projected paths and fig3's trace along them (mean ± std over seeds). */
function pathFigures(p: PipelineParams, rows: PathRow[], byEpoch: ReturnType<typeof traceByEpoch>): Figure[] {
  const losses = rows.flatMap((r) => [
    { epoch: r.epoch, loss: r.trainLoss, curve: `train, seed ${r.seed}` },
    { epoch: r.epoch, loss: r.valLoss, curve: `validation, seed ${r.seed}` },
  ]);
  const trace = byEpoch.map((e) => ({
    epoch: e.epoch,
    trace: e.mean,
    lo: e.std === null ? e.mean : e.mean - e.std,
    hi: e.std === null ? e.mean : e.mean + e.std,
  }));
  return [
    lineFigure({
      id: 'losses-along-path',
      title: `Training and validation loss along the projected paths (fig. 1; ${p.model}, ${p.dataset})`,
      caption: `Every projected point of every seed; dashed: the threshold ${p.threshold} below which a point is a minimum (projections stop below ${p.threshold} − ${p.margin}).`,
      data: losses,
      x: { field: 'epoch', title: 'epoch' },
      y: { field: 'loss', title: 'loss' },
      series: 'curve',
      rules: [{ y: p.threshold, label: `threshold ${p.threshold}` }],
    }),
    lineFigure({
      id: 'trace-along-path',
      title: `Hessian trace along the projected paths (fig. 3; ${p.seeds} seeds)`,
      caption:
        'Each seed averaged within an epoch first, then the mean over seeds; the band is ± one standard deviation over seeds.',
      data: trace,
      x: { field: 'epoch', title: 'epoch' },
      y: { field: 'trace', title: 'Hessian trace' },
      band: { lo: 'lo', hi: 'hi' },
      points: true,
    }),
  ];
}

/** Wall time of the run and seconds of numerics per stage (summed over workers, so it can exceed wall time). */
function timeSummary(
  wallMs: number,
  computeMs: StageComputeMs,
): { wallSeconds: number; computeSeconds: number; computeSecondsByStage: Record<keyof StageComputeMs, number> } {
  const s = (ms: number): number => Math.round(ms) / 1000;
  const total = Object.values(computeMs).reduce((a, b) => a + b, 0);
  return {
    wallSeconds: s(wallMs),
    computeSeconds: s(total),
    computeSecondsByStage: Object.fromEntries(Object.entries(computeMs).map(([k, v]) => [k, s(v)])) as Record<
      keyof StageComputeMs,
      number
    >,
  };
}
