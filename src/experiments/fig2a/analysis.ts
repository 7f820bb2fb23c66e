import { fitClaim, signClaim, withinClaim } from '../../results/claims';
import { lineFigure, scatterFigure } from '../../report/figures';
import { lineIntervals, linearFit } from '../../stats/statistics';
import type { Analysis } from '../experiment';
import type { Fig2aParams } from './definition';

/** What an equilibrating run reports. */
export interface Fig2aOutput {
  batch: number;
  lr: number;
  trainLoss: number;
  negativeSum: number;
  /** Standard error of the quadrature over its probes (0 for the exact spectrum). */
  negativeSumStderr: number;
  /** How many eigenvalues are negative (exact spectrum; NaN for the quadrature). */
  negativeCount: number;
  /** `exact (float64)`, `exact (float32-products)` or `slq`. */
  spectrum: string;
  /** tr Σ of the per-sample gradients at the end point (absent in results from before it was measured). */
  gradientNoise?: number;
  /** The equilibration test over the last half of the run: the loss's slope per step and its 95% interval. */
  equilibration: {
    slope: number;
    lo: number;
    hi: number;
    records: number;
    tau: number;
    effectiveSamples: number;
    equilibrated: boolean;
  };
  /** [step, full-batch training loss] along the run. */
  losses: Array<[number, number]>;
}

/** What the GD run to the minimum reports: is its end a minimum? */
export interface Fig2aMinimum {
  trainLoss: number;
  negativeSum: number;
  negativeCount: number;
  /** tr Σ of the per-sample gradients there (absent in results from before it was measured). */
  gradientNoise?: number;
  losses: Array<[number, number]>;
}

const CONFIDENCE = 0.95;

/** The smallest label-smoothed cross entropy over K classes: the entropy of the smoothed target. */
export function lsceFloor(smoothing: number, classes = 10): number {
  const top = 1 - smoothing + smoothing / classes,
    rest = smoothing / classes;
  return -(top * Math.log(top)) - (rest > 0 ? (classes - 1) * rest * Math.log(rest) : 0);
}

/**
 * fig2a's claims. Appendix A.3: at a point θ_i ≠ 0 (i ≤ n) of the valley, the negative
 * eigenvalues come from second derivatives in the degenerate directions scaled by θ_i², and so
 * does the loss above its minimum: their sum is proportional to the training loss. With label
 * smoothing the minimum is the floor H(t) > 0, so we read "training loss" as the loss above that
 * floor (the paper's fit has intercept ≈ 0, which only that reading allows). Intervals: t on
 * HC3 standard errors (`lineIntervals`; a bootstrap over the few (batch, lr) points under-covered).
 */
export function fig2aAnalysis(p: Fig2aParams, points: Fig2aOutput[], minimum?: Fig2aMinimum): Analysis {
  const floor = lsceFloor(p.smoothing);
  // Appendix A.3 is about equilibrium: a run still descending (or rising) over the last half of
  // its steps is not in one, and is left out of the fit and counted.
  const all = points.map((o) => ({ ...o, excess: o.trainLoss - floor }));
  const rows = all.filter((r) => r.equilibration.equilibrated);
  const excluded = all.filter((r) => !r.equilibration.equilibrated);
  const exclusion =
    `${excluded.length} of ${all.length} runs left out: not equilibrated (the training loss's slope over the ` +
    `last half of the run, with an interval widened by the fluctuations' autocorrelation, excludes 0, or ` +
    `that half holds fewer than 5 autocorrelation times)`;
  const float32 = all.some((r) => r.spectrum === 'exact (float32-products)')
    ? '; the Hessian was formed from float32 products (no torch backend), so near-zero eigenvalues are blurred'
    : '';
  const fitOf = (rs: typeof rows) =>
    linearFit(
      rs.map((r) => r.excess),
      rs.map((r) => r.negativeSum),
    );
  const intervalsOf = (rs: typeof rows) =>
    lineIntervals(
      rs.map((r) => r.excess),
      rs.map((r) => r.negativeSum),
      CONFIDENCE,
    );
  const fit = fitOf(rows);
  const { slope, intercept } = intervalsOf(rows);
  const few =
    rows.length < 3 ? `${rows.length} equilibrated points: a line needs at least 3 (${exclusion})` : undefined;
  // Until the slope is resolved there is no line whose intercept could be tested.
  const noLine =
    few ??
    (slope.lo <= 0 && slope.hi >= 0
      ? "the slope's interval contains 0: no line is established, so its intercept tests nothing"
      : undefined);
  const half = Math.max(intercept.hi - intercept.estimate, intercept.estimate - intercept.lo);
  const claims = [
    signClaim({
      id: 'negative-sum-falls-with-loss',
      description:
        `the sum of negative Hessian eigenvalues grows in magnitude with the training loss: ` +
        `least-squares slope against the loss above its floor ${floor.toFixed(4)}, ` +
        `${rows.length} equilibrated (batch, lr) points, ${Math.round(CONFIDENCE * 100)}% t interval ` +
        `on HC3 standard errors; ${exclusion}${float32}`,
      paper: 'section 4.1, fig. 2(a)',
      side: 'negative',
      measured: fit.slope,
      interval: slope,
      inconclusiveBecause: few,
    }),
    withinClaim({
      id: 'negative-sum-proportional-to-loss',
      description:
        'the fit goes through the origin: no negative eigenvalues at the minimum itself ' +
        '(intercept of the same fit; the paper: 1.22e-5)',
      paper: 'appendix A.3, fig. 2(a)',
      predicted: 0,
      measured: fit.intercept,
      statistical: half,
      neglected: 0,
      basis:
        `${Math.round(CONFIDENCE * 100)}% t half-width on HC3 standard errors ` +
        `(each point's quadrature error is inside the spread)`,
      interval: intercept,
      inconclusiveBecause: noLine,
    }),
    fitClaim({
      id: 'slope-matches-paper',
      description:
        `the slope equals the paper's w = ${p.paperSlope} ` +
        `(an empirical number of the paper's own run: it must lie in our interval)`,
      paper: 'fig. 2(a): y = −40.07x + 1.22e-5',
      paperValue: p.paperSlope,
      measured: fit.slope,
      interval: slope,
      tolerance: 0,
      basis: 'none beyond the interval',
      inconclusiveBecause: few,
    }),
  ];
  // Descriptive only, never a verdict: the same fit over every run, equilibrated or not (what the
  // points show when the setting has no equilibrium to test).
  const allFit = all.length >= 3 ? fitOf(all) : undefined;
  const allRuns = allFit && {
    slope: allFit.slope,
    intercept: allFit.intercept,
    slopeInterval: intervalsOf(all).slope,
  };
  // Descriptive too: does SGD's noise vanish with the loss above the floor (tr Σ ∝ excess^k, the
  // exponent from a log-log fit over every run)? Where it does, there is no equilibrium above the floor.
  // And how much excess could each run's own noise hold: SGD near a minimum settles where
  // ½ tr(H S) = (η/4B)(1 − B/M) tr Σ (the trace of the stationary equation HS + SH = η Σ/B·(1 − B/M),
  // whatever H is); a run whose noise holds a small fraction of its excess can only descend.
  const noisy = all.filter((r) => r.gradientNoise !== undefined && r.gradientNoise > 0 && r.excess > 0);
  const held = (r: (typeof all)[number]): number =>
    ((r.lr / (4 * r.batch)) * (1 - r.batch / p.samples) * r.gradientNoise!) / r.excess;
  const noiseFit =
    noisy.length >= 3
      ? lineIntervals(
          noisy.map((r) => Math.log(r.excess)),
          noisy.map((r) => Math.log(r.gradientNoise!)),
          CONFIDENCE,
        ).slope
      : undefined;
  return {
    claims,
    figures: [
      scatterFigure({
        id: 'fig2a-negative-sum',
        title: 'Sum of negative eigenvalues against training loss (fig. 2a)',
        caption:
          `Each point one (batch, lr) run after ${p.equilibrateSteps} SGD steps from the GD minimum; ` +
          `bars: ±2 quadrature standard errors (none for the exact spectrum); dashed: our fit (equilibrated ` +
          `points) and the paper's; ${excluded.length} runs not equilibrated are drawn but not fitted.`,
        series: 'equilibrated',
        data: all
          .map((r) => ({
            excess: r.excess,
            negativeSum: r.negativeSum,
            lo: r.negativeSum - 2 * r.negativeSumStderr,
            hi: r.negativeSum + 2 * r.negativeSumStderr,
            point: `b=${r.batch}, η=${r.lr}`,
            equilibrated: r.equilibration.equilibrated ? 'yes' : 'no',
          }))
          .concat(
            minimum
              ? [
                  {
                    excess: minimum.trainLoss - floor,
                    negativeSum: minimum.negativeSum,
                    lo: minimum.negativeSum,
                    hi: minimum.negativeSum,
                    point: 'GD start',
                    equilibrated: 'GD start',
                  },
                ]
              : [],
          ),
        x: { field: 'excess', title: 'training loss above its floor' },
        y: { field: 'negativeSum', title: 'Σ negative eigenvalues' },
        err: { lo: 'lo', hi: 'hi' },
        lines: [
          { label: 'fit', slope: fit.slope, intercept: fit.intercept },
          { label: 'paper', slope: p.paperSlope, intercept: 1.22e-5 },
        ],
      }),
      lineFigure({
        id: 'fig2a-equilibration',
        title: 'Training loss along each SGD run (the equilibration test reads the last half)',
        caption:
          `Full-batch training loss of each (batch, lr) run from the GD minimum; the floor of the ` +
          `label-smoothed loss is ${floor.toFixed(4)}. ${exclusion}.`,
        data: all.flatMap((r) =>
          r.losses.map(([step, loss]) => ({
            step,
            loss,
            run: `b=${r.batch}, η=${r.lr}${r.equilibration.equilibrated ? '' : ' (not eq.)'}`,
          })),
        ),
        rules: minimum ? [{ y: minimum.trainLoss, label: `the GD start (${p.minimumSteps} steps)` }] : [],
        x: { field: 'step', title: 'SGD step' },
        y: { field: 'loss', title: 'training loss', scale: { type: 'log' } },
        series: 'run',
      }),
    ],
    summary: {
      floor,
      fit: { slope: fit.slope, intercept: fit.intercept, r2: fit.r2 },
      equilibrated: rows.length,
      allRunsDescriptive: allRuns,
      gradientNoiseDescriptive: noiseFit && {
        exponent: noiseFit.estimate,
        interval: [noiseFit.lo, noiseFit.hi],
        runs: noisy.length,
        meaning: 'tr Σ of the per-sample gradients ∝ (training loss above its floor)^exponent, over every run',
        heldFraction: {
          min: Math.min(...noisy.map(held)),
          max: Math.max(...noisy.map(held)),
          meaning:
            "the loss above the floor that each run's own noise would hold at equilibrium, (η/4B)(1 − B/M) tr Σ, " +
            'as a fraction of the excess it has',
        },
      },
      minimum: minimum && {
        excess: minimum.trainLoss - floor,
        negativeSum: minimum.negativeSum,
        negativeCount: minimum.negativeCount,
        gradientNoise: minimum.gradientNoise,
        gdSteps: p.minimumSteps,
      },
      notEquilibrated: excluded.map((r) => `b=${r.batch}, η=${r.lr}`),
      points: all.map(({ losses: _losses, ...r }) => r),
    },
  };
}
