import { signClaim, withinClaim, type Claim } from '../../results/claims';
import { linearFit, mean, meanInterval, std } from '../../stats/statistics';
import type { Analysis } from '../experiment';
import { lineFigure, type Figure } from '../../report/figures';
import type { PathParams } from './params';
import type { PathRow, SeedPathStats } from './rows';

/** The part of a path row the analysis reads. */
export interface TracedPoint {
  seed: number;
  epoch: number;
  trace: number | null;
  valLoss?: number;
}

type Value = (r: TracedPoint) => number | null | undefined;
const traceOf: Value = (r) => r.trace;

/** Per seed, the mean of a quantity over its path points in each epoch bin (points within ±½ epoch of it). */
export function perSeedEpochMeans(
  rows: readonly TracedPoint[],
  value: Value = traceOf,
): Map<number, Map<number, number>> {
  const sums = new Map<number, Map<number, { s: number; n: number }>>();
  for (const r of rows) {
    const v = value(r);
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    const bins = sums.get(r.seed) ?? new Map<number, { s: number; n: number }>();
    sums.set(r.seed, bins);
    const e = Math.round(r.epoch);
    const b = bins.get(e) ?? { s: 0, n: 0 };
    bins.set(e, { s: b.s + v, n: b.n + 1 });
  }
  return new Map([...sums].map(([seed, bins]) => [seed, new Map([...bins].map(([e, b]) => [e, b.s / b.n]))]));
}

/**
 * The trace along the paths, epoch by epoch: each seed's points are averaged within the epoch
 * first (bisection crowds points where a seed's path bends, which must not weigh that seed
 * more), then the seeds' means are averaged; `std` is over seeds, null with a single seed.
 */
export function traceByEpoch(
  rows: readonly TracedPoint[],
): Array<{ epoch: number; mean: number; std: number | null; seeds: number }> {
  const perSeed = perSeedEpochMeans(rows);
  const epochs = [...new Set([...perSeed.values()].flatMap((bins) => [...bins.keys()]))].sort((a, b) => a - b);
  return epochs.map((epoch) => {
    const values = [...perSeed.values()].map((bins) => bins.get(epoch)).filter((v): v is number => v !== undefined);
    return { epoch, mean: mean(values), std: values.length >= 2 ? std(values) : null, seeds: values.length };
  });
}

/** Each seed's least-squares slope of its epoch-mean trace against epoch (seeds with fewer than 2 epochs left out). */
export function seedTraceSlopes(
  rows: readonly TracedPoint[],
  value: Value = traceOf,
): Array<{ seed: number; slope: number; epochs: number }> {
  return [...perSeedEpochMeans(rows, value)].flatMap(([seed, bins]) => {
    const epochs = [...bins.keys()].sort((a, b) => a - b);
    if (epochs.length < 2) return [];
    return [
      {
        seed,
        slope: linearFit(
          epochs,
          epochs.map((e) => bins.get(e)!),
        ).slope,
        epochs: epochs.length,
      },
    ];
  });
}

/** What the claims need to know of each seed's path. */
export interface SeedConnectivity {
  /** The seed's threshold (absent: the run's fixed one). */
  threshold?: number;
  seed: number;
  unconnectedPairs: number;
  unconnectedAfterSettle: number;
  pairsAfterSettle: number;
  connectedPairs: number;
}

/** Confidence of the trace trend's interval. */
export const TREND_CONFIDENCE = 0.95;

/**
 * fig1 and fig3 against this run:
 * - `path-connected`: from `settleEpochs` on (the paper: "after a few epochs"), no pair of
 *   consecutive minima is left unconnected on any seed's path (a count, so no tolerance). Both
 *   ends of every pair are projections below threshold − margin; the line check asks for the
 *   threshold at every point, so this can fail, and does with margin 0 or a threshold the
 *   projections cannot reach.
 * - `trace-decreases`: the slope of the trace against epoch, taken per seed (on per-seed epoch
 *   means) and averaged over seeds, with a Student-t interval over seeds (the two-stage form of
 *   a random-slope mixed model); passes only when the whole interval is below zero, fails when
 *   it is above, and is inconclusive with fewer than two seeds or an interval across zero.
 */
export function projectedPathClaims(
  p: PathParams,
  rows: readonly TracedPoint[],
  seeds: readonly SeedConnectivity[],
): Claim[] {
  const unconnected = seeds.reduce((a, s) => a + s.unconnectedAfterSettle, 0);
  const early = seeds.reduce((a, s) => a + s.unconnectedPairs - s.unconnectedAfterSettle, 0);
  const pairs = seeds.reduce((a, s) => a + s.unconnectedPairs + s.connectedPairs, 0);
  const checked = seeds.reduce((a, s) => a + s.pairsAfterSettle, 0);
  const slopes = seedTraceSlopes(rows);
  const thresholds = seeds.map((s) => s.threshold ?? (p.threshold === 'auto' ? NaN : p.threshold));
  const fmt = (x: number): string => x.toPrecision(4);
  const range =
    Math.min(...thresholds) === Math.max(...thresholds)
      ? fmt(thresholds[0] ?? NaN)
      : `${fmt(Math.min(...thresholds))}–${fmt(Math.max(...thresholds))} over the seeds`;
  const rule =
    p.threshold === 'auto'
      ? `its seed's own minimal SGD training loss (${range}), the paper's rule`
      : `the fixed threshold ${p.threshold} (a substitution for the seed's own minimal SGD training loss)`;
  const stop =
    p.margin > 0
      ? `projections stop below the threshold − ${p.margin}, which gives each segment room the paper's ` +
        'procedure does not: a pass is weaker evidence'
      : 'projections stop as soon as the loss is below the threshold, as in the paper';
  const trend = meanInterval(
    slopes.map((s) => s.slope),
    TREND_CONFIDENCE,
  );
  return [
    withinClaim({
      id: 'path-connected',
      description:
        `after ${p.settleEpochs} epoch(s), every seed's projected path is connected: each pair of consecutive minima ` +
        `has training loss below the threshold, ${rule}, ` +
        `at all ${p.linePoints} evenly spaced points of its segment ` +
        `(measured: pairs left unconnected from epoch ${p.settleEpochs} on; ` +
        `${pairs} pairs over ${seeds.length} seeds in all, ` +
        `${early} unconnected before; ${stop})`,
      paper: 'section 2.1.1, fig. 1',
      predicted: 0,
      measured: unconnected,
      statistical: 0,
      neglected: 0,
      basis: 'a count: exact',
      inconclusiveBecause:
        checked === 0
          ? `no pair of minima lies after epoch ${p.settleEpochs}: lower --set settleEpochs or raise --set epochs`
          : undefined,
    }),
    signClaim({
      id: 'trace-decreases',
      description:
        `the Hessian trace along the projected paths falls with epoch: per-seed least-squares slope of the ` +
        `epoch-mean trace, averaged over ${slopes.length} seeds, ` +
        `with its ${Math.round(TREND_CONFIDENCE * 100)}% Student-t interval over seeds (trace per epoch)`,
      paper: 'fig. 3, Theorem 1',
      side: 'negative',
      measured: trend.mean,
      interval: trend.interval,
      inconclusiveBecause:
        slopes.length < 2
          ? `${slopes.length} seed(s) with at least two traced epochs: an interval needs two`
          : undefined,
    }),
  ];
}

/** The engine's figures, by id. */
export type PathFigureId = 'losses-along-path' | 'trace-along-path' | 'barriers-along-path';

/** What a figure over the engine adds to its analysis: its figure order and claims of its own. */
export interface PathFigureHooks {
  /** Report order of the engine's figures (default: losses first, then the trace). */
  figures?: readonly PathFigureId[];
  /** Claims beyond the engine's two. */
  extraClaims?(p: PathParams, rows: readonly PathRow[]): Claim[];
}

/** fig1's losses along the projected paths and fig3's trace along them (mean ± std over seeds). */
function pathFigures(p: PathParams, rows: readonly PathRow[], byEpoch: ReturnType<typeof traceByEpoch>): Figure[] {
  const thresholds = [...new Set(rows.map((r) => r.threshold).filter((t): t is number => t !== undefined))];
  const shown = thresholds.length ? thresholds : p.threshold === 'auto' ? [] : [p.threshold];
  const mean = shown.reduce((a, b) => a + b, 0) / Math.max(1, shown.length);
  const which =
    p.threshold === 'auto'
      ? "each seed's own minimal SGD training loss" + (shown.length > 1 ? ' (their mean dashed)' : '')
      : 'the fixed threshold';
  const barriers = rows
    .filter((r) => r.barrier !== undefined && r.barrier !== null)
    .map((r) => ({ epoch: r.epoch, barrier: r.barrier!, seed: `seed ${r.seed}` }));
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
      caption:
        `Every projected point of every seed; dashed: the threshold below which a point is a minimum, ${which}` +
        (p.margin > 0 ? ` (projections stop ${p.margin} below it).` : '.'),
      data: losses,
      x: { field: 'epoch', title: 'epoch' },
      y: { field: 'loss', title: 'loss' },
      series: 'curve',
      rules: shown.length ? [{ y: mean, label: `threshold ${mean.toPrecision(4)}` }] : [],
    }),
    lineFigure({
      id: 'barriers-along-path',
      title: 'Barrier of every checked segment along the projected paths (the line checks of fig. 1)',
      caption:
        'For each consecutive pair of minima: the highest training loss on the segment between them minus the ' +
        'threshold. Below 0 (dashed) the pair is line-connected; above it the path breaks there.',
      data: barriers,
      x: { field: 'epoch', title: 'epoch' },
      y: { field: 'barrier', title: 'highest loss on the segment − threshold' },
      series: 'seed',
      points: true,
      rules: [{ y: 0, label: 'threshold' }],
    }),
    lineFigure({
      id: 'trace-along-path',
      title: `Hessian trace along the projected paths (fig. 3; ${p.seeds} seeds)`,
      caption:
        'Each seed averaged within an epoch first, then the mean over seeds; the band is ± one standard ' +
        'deviation over seeds.',
      data: trace,
      x: { field: 'epoch', title: 'epoch' },
      y: { field: 'trace', title: 'Hessian trace' },
      band: { lo: 'lo', hi: 'hi' },
      points: true,
    }),
  ];
}

/** A projected-path run's claims, figures and summary from its rows and per-seed counts. */
export function analyzePath(
  p: PathParams,
  rows: readonly PathRow[],
  seeds: readonly SeedPathStats[],
  hooks: PathFigureHooks = {},
): Analysis {
  const claims = [...projectedPathClaims(p, rows, seeds), ...(hooks.extraClaims?.(p, rows) ?? [])];
  const byEpoch = traceByEpoch(rows);
  const slopes = new Map(seedTraceSlopes(rows).map((s) => [s.seed, s.slope]));
  const perSeed = seeds.map((s) => ({ ...s, traceSlope: slopes.get(s.seed) ?? null }));
  const figures = pathFigures(p, rows, byEpoch);
  const order = hooks.figures ?? ['losses-along-path', 'barriers-along-path', 'trace-along-path'];
  return {
    claims,
    figures: order.map((id) => figures.find((f) => f.id === id)!),
    summary: { perSeed, traceByEpoch: byEpoch, points: rows.length },
  };
}
