import { withinClaim } from '../../results/claims';
import { scatterFigure } from '../../report/figures';
import { groupedLinearFit, linearFit, mean, std } from '../../stats/statistics';
import type { Analysis } from '../experiment';
import { fig2bToy, meanFieldPath, spectrumAt } from '../toys/valley-toy';
import type { Fig2bParams } from './definition';

/** What a unit (one η) reports: the measured ΔT of every run. */
export interface Fig2bOutput {
  lr: number;
  deltas: number[];
  /** Runs in which θ3+θ4 or θ3+2θ4 changed sign (the toy's premise broke). */
  flips: number;
}

const CONFIDENCE = 0.95;

/**
 * ΔT over the measured steps from theory at the run's settings: to leading order
 * −(c/4)‖Σ∇λ‖²η²·steps (‖Σ∇λ‖² from the toy's gradients at theta0), and with the first-order
 * ηλ terms (θ_i's variance ηc/(2 − ηλ_i) instead of ηc/2) along the mean-field path of the valley
 * position, whose curvatures fall as the run goes on.
 */
function meanFieldDelta(p: Fig2bParams, lr: number): number {
  const opts = { lr, noise: p.noise, kind: 'sgd' as const };
  const phi0 = p.theta0 as [number, number];
  const start = meanFieldPath(fig2bToy, phi0, opts, p.equilibrationSteps);
  const end = meanFieldPath(fig2bToy, [start.theta[2], start.theta[3]], opts, p.measureSteps);
  return spectrumAt(fig2bToy, end).trace - spectrumAt(fig2bToy, start).trace;
}

export function theory(
  p: Fig2bParams,
  lr: number,
): { predicted: { leading: number; firstOrder: number }; lambda0: [number, number]; gradSumSq: number } {
  const [t3, t4] = p.theta0 as [number, number];
  const c = fig2bToy.curvatures(t3, t4);
  const gradSumSq = (c.g1[0] + c.g2[0]) ** 2 + (c.g1[1] + c.g2[1]) ** 2;
  return {
    lambda0: [c.l1, c.l2],
    gradSumSq,
    predicted: {
      leading: -(p.noise / 4) * gradSumSq * lr * lr * p.measureSteps,
      firstOrder: meanFieldDelta(p, lr),
    },
  };
}

/**
 * fig2b's claims: ΔT over the measured steps, fitted against η² by least squares over every
 * run, has the slope theory gives at the run's own settings (−(c/4)‖Σ∇λ‖²·steps to leading
 * order; the prediction keeps the first-order ηλ terms, and the same fit is applied to the
 * predicted ΔT(η)), and the intercept theory gives (≈ 0: ΔT ∝ η², not a constant offset).
 * Intervals from the runs' spread at each η (Student t, Welch-Satterthwaite).
 */
export function fig2bAnalysis(p: Fig2bParams, outputs: Fig2bOutput[]): Analysis {
  const units = [...outputs].sort((a, b) => a.lr - b.lr).map((u) => ({ ...u, ...theory(p, u.lr) }));
  const fit = groupedLinearFit(
    units.map((u) => ({ x: u.lr * u.lr, ys: u.deltas })),
    CONFIDENCE,
  );
  const slopeCi = { ...fit.slopeInterval, estimate: fit.slope };
  const interceptCi = { ...fit.interceptInterval, estimate: fit.intercept };
  const predicted = linearFit(
    units.map((u) => u.lr * u.lr),
    units.map((u) => u.predicted.firstOrder),
  );
  const leadingSlope = units[0] ? units[0].predicted.leading / (units[0].lr * units[0].lr) : NaN;
  const maxEtaLambda = Math.max(...units.map((u) => u.lr * Math.max(...u.lambda0)));
  // What the first-order prediction still drops: relative (ηλ/2)² at the largest η.
  const neglected = Math.abs(predicted.slope) * (maxEtaLambda / 2) ** 2;
  const flips = units.reduce((a, u) => a + u.flips, 0);
  const premise =
    flips > 0
      ? `in ${flips} run(s) θ3+θ4 or θ3+2θ4 changed sign, so ∇λ was not constant: ` +
        `lower --set lrs or noise, or move theta0`
      : undefined;
  const half = (ci: { lo: number; hi: number; estimate: number }): number =>
    Math.max(ci.hi - ci.estimate, ci.estimate - ci.lo);
  const gradSumSq = units[0]?.gradSumSq ?? NaN;

  const claims = [
    withinClaim({
      id: 'trace-decrease-slope',
      description:
        `ΔT over ${p.measureSteps} steps against η² has slope −(c/4)‖Σ∇λ‖²·steps: ` +
        `‖Σ∇λ‖² = ${gradSumSq} from the toy's gradients, ` +
        `so ${leadingSlope.toPrecision(4)} to leading order ` +
        `and ${predicted.slope.toPrecision(4)} with the first-order ηλ terms ` +
        `(least squares through the mean ΔT of ${p.repeats} runs at each of ${units.length} learning rates)`,
      paper: 'section 4.2, fig. 2(b); Theorem 1',
      predicted: predicted.slope,
      measured: fit.slope,
      statistical: half(slopeCi),
      neglected,
      basis:
        `${Math.round(CONFIDENCE * 100)}% Student-t half-width ` +
        `(each η with its own variance, ${fit.dof.slope.toFixed(0)} Welch-Satterthwaite degrees of freedom), ` +
        `plus second-order terms (ηλ/2)² = ${((maxEtaLambda / 2) ** 2).toExponential(1)} of the slope`,
      interval: { lo: slopeCi.lo, hi: slopeCi.hi, confidence: CONFIDENCE },
      inconclusiveBecause: premise,
    }),
    withinClaim({
      id: 'proportional-to-eta-squared',
      description:
        `ΔT is proportional to η²: the intercept of the same fit is the one theory gives ` +
        `(${predicted.intercept.toPrecision(3)}, from the first-order terms), not an offset independent of η`,
      paper: 'section 4.2, fig. 2(b)',
      predicted: predicted.intercept,
      measured: fit.intercept,
      statistical: half(interceptCi),
      neglected: Math.abs(predicted.slope) * (maxEtaLambda / 2) ** 2 * Math.min(...units.map((u) => u.lr * u.lr)),
      basis:
        `${Math.round(CONFIDENCE * 100)}% Student-t half-width (each η with its own variance), ` +
        `plus second-order terms at the smallest η`,
      interval: { lo: interceptCi.lo, hi: interceptCi.hi, confidence: CONFIDENCE },
      inconclusiveBecause: premise,
    }),
  ];

  const rows = units.map((u) => {
    const m = mean(u.deltas),
      se = std(u.deltas) / Math.sqrt(u.deltas.length);
    return { eta2: u.lr * u.lr, deltaT: m, lo: m - 1.96 * se, hi: m + 1.96 * se, predicted: u.predicted.firstOrder };
  });
  return {
    claims,
    figures: [
      scatterFigure({
        id: 'fig2b-trace-vs-eta2',
        title: 'Trace change against η² (fig. 2b)',
        caption:
          `Mean ΔT over ${p.measureSteps} steps per η with 95% intervals over ${p.repeats} runs; ` +
          `dashed: the least-squares fit and theory.`,
        data: rows,
        x: { field: 'eta2', title: 'η²' },
        y: { field: 'deltaT', title: 'ΔT' },
        err: { lo: 'lo', hi: 'hi' },
        lines: [
          { label: 'fit', slope: fit.slope, intercept: fit.intercept },
          { label: 'theory (first order)', slope: predicted.slope, intercept: predicted.intercept },
        ],
      }),
    ],
    summary: {
      fit: { slope: fit.slope, intercept: fit.intercept, r2: fit.r2 },
      predicted: { slope: predicted.slope, leadingSlope },
      perEta: rows,
      flips,
    },
  };
}
