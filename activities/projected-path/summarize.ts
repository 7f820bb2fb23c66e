import type { PathParams } from '../../src/experiments/projected-path/params';
import {
  totalMs,
  type PathCountsTotal,
  type PathRow,
  type SeedPathStats,
  type StageComputeMs,
} from '../../src/experiments/projected-path/rows';
import { findPathExperiment } from '../../src/experiments/registry';
import type { RunResult } from '../../src/results/run-result';
import type { ActivityDeps } from '../deps';
import { writeRunArtifacts } from '../run-artifacts';
import { readPathRows } from './path-rows';

export interface SummarizePathInput {
  runId: string;
  experiment: string;
  preset: string;
  params: PathParams;
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
 * A projected-path run's summary: its figure's analysis (claims, figures, per-seed summary) over
 * the rows, then the report, path.json and result.json (with the rows). The backends recorded
 * are those the stages reported, not this worker's.
 */
export function makeSummarizeProjectedPath(deps: ActivityDeps) {
  return async function summarizeProjectedPath(input: SummarizePathInput): Promise<ProjectedPathResult> {
    const { runId, params } = input;
    const experiment = findPathExperiment(input.experiment);
    const rows = await readPathRows(
      deps.store,
      runId,
      { experiment: input.experiment, params, seed: input.seed },
      input.seeds.map((s) => s.seed),
    );
    const analysis = experiment.analyze(params, rows, input.seeds);
    const base = {
      runId,
      experiment: input.experiment,
      preset: input.preset,
      status: 'completed' as const,
      params,
      seed: input.seed,
      backends: [...new Set(input.seeds.flatMap((s) => s.backends))].sort(),
      claims: analysis.claims,
      substitutions: experiment.substitutions(params),
      codeVersion: deps.codeVersion,
      finishedAt: new Date().toISOString(),
      summary: { ...analysis.summary, time: timeSummary(input.wallMs, input.computeMs) },
    };
    const result = await writeRunArtifacts(
      deps,
      base,
      experiment.title,
      analysis.figures,
      [{ name: 'path.json', body: JSON.stringify(rows), contentType: 'application/json' }],
      { path: rows, counts: input.counts },
    );
    return { ...result, counts: input.counts };
  };
}

/** Wall time of the run and seconds of numerics per stage (summed over workers, so it can exceed wall time). */
function timeSummary(
  wallMs: number,
  computeMs: StageComputeMs,
): { wallSeconds: number; computeSeconds: number; computeSecondsByStage: Record<keyof StageComputeMs, number> } {
  const s = (ms: number): number => Math.round(ms) / 1000;
  const total = totalMs(computeMs);
  const byStage = { train: 0, project: 0, replay: 0, line: 0, trace: 0 };
  for (const k of Object.keys(byStage) as Array<keyof StageComputeMs>) byStage[k] = s(computeMs[k]);
  return { wallSeconds: s(wallMs), computeSeconds: s(total), computeSecondsByStage: byStage };
}
