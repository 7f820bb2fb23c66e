/**
 * The statistics every experiment's claims are computed with, in one place: means and spreads,
 * least-squares fits, Student-t intervals, seeded bootstrap intervals, and errors of means of
 * autocorrelated series. Distribution quantiles come from jStat.
 */
import { jStat } from 'jstat';

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
export const mean = (xs: readonly number[]): number => sum(xs) / xs.length;

/** Sample variance (n − 1 in the denominator); NaN for fewer than two values. */
export function variance(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
}

export const std = (xs: readonly number[]): number => Math.sqrt(variance(xs));

/** Quantile of Student's t with `dof` degrees of freedom. */
export function tQuantile(p: number, dof: number): number {
  return jStat.studentt.inv(p, dof);
}

/** A two-sided interval at a stated confidence level. */
export interface Interval {
  lo: number;
  hi: number;
  confidence: number;
}

/**
 * Mean of independent values with its two-sided Student-t interval (exact for normal values;
 * the honest choice with few seeds, where a bootstrap percentile interval is too narrow).
 */
export function meanInterval(
  xs: readonly number[],
  confidence = 0.95,
): { mean: number; stderr: number; interval: Interval } {
  const m = mean(xs);
  const se = Math.sqrt(variance(xs) / xs.length);
  const half = xs.length >= 2 ? tQuantile(0.5 + confidence / 2, xs.length - 1) * se : NaN;
  return { mean: m, stderr: se, interval: { lo: m - half, hi: m + half, confidence } };
}

/** Least-squares line y = slope·x + intercept with R² and the slope's standard error. */
export interface LinearFit {
  slope: number;
  intercept: number;
  r2: number;
  slopeStderr: number;
  interceptStderr: number;
  n: number;
}

export function linearFit(x: readonly number[], y: readonly number[]): LinearFit {
  const n = x.length;
  const mx = mean(x),
    my = mean(y);
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const sse = Math.max(0, syy - slope * sxy);
  const s2 = n > 2 ? sse / (n - 2) : NaN;
  return {
    slope,
    intercept,
    r2: syy > 0 ? 1 - sse / syy : NaN,
    slopeStderr: Math.sqrt(s2 / sxx),
    interceptStderr: Math.sqrt(s2 * (1 / n + (mx * mx) / sxx)),
    n,
  };
}

/**
 * Confidence intervals of a least-squares line's slope and intercept: t with n − 2 degrees of
 * freedom on heteroscedasticity-consistent (HC3) standard errors, each coefficient a linear
 * combination Σ cᵢyᵢ with variance Σ cᵢ² eᵢ²/(1 − hᵢ)². Calibrated in test/unit/figure-analyses
 * (5% misses at n = 9, with or without noise growing along x), where the percentile bootstrap over
 * the points it replaced missed 12-15% at that n.
 */
export function lineIntervals(
  x: readonly number[],
  y: readonly number[],
  confidence: number,
): { slope: Interval & { estimate: number }; intercept: Interval & { estimate: number } } {
  const n = x.length;
  const f = linearFit(x, y);
  const mx = mean(x);
  const sxx = x.reduce((a, v) => a + (v - mx) ** 2, 0);
  let vSlope = 0,
    vIntercept = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - mx;
    const h = 1 / n + (d * d) / sxx;
    const w = ((y[i]! - f.intercept - f.slope * x[i]!) / Math.max(1 - h, 1e-12)) ** 2;
    vSlope += (d / sxx) ** 2 * w;
    vIntercept += (1 / n - (mx * d) / sxx) ** 2 * w;
  }
  const q = n > 2 ? tQuantile(0.5 + confidence / 2, n - 2) : NaN;
  const around = (estimate: number, v: number) => {
    const half = q * Math.sqrt(v);
    return { estimate, lo: estimate - half, hi: estimate + half, confidence };
  };
  return { slope: around(f.slope, vSlope), intercept: around(f.intercept, vIntercept) };
}

/**
 * A line through the means of repeated measurements at each x (a designed experiment: groups
 * of independent runs), with standard errors that let each group have its own variance and a
 * Welch-Satterthwaite degree of freedom, so intervals stay honest with few runs per group and
 * a noise that grows with x.
 */
export function groupedLinearFit(
  groups: ReadonlyArray<{ x: number; ys: readonly number[] }>,
  confidence = 0.95,
): {
  slope: number;
  intercept: number;
  slopeStderr: number;
  interceptStderr: number;
  slopeInterval: Interval;
  interceptInterval: Interval;
  dof: { slope: number; intercept: number };
  r2: number;
} {
  const k = groups.length;
  const xs = groups.map((g) => g.x),
    means = groups.map((g) => mean(g.ys));
  const fit = linearFit(xs, means);
  const mx = mean(xs);
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const a = xs.map((x) => (x - mx) / sxx);
  const b = a.map((ai) => 1 / k - mx * ai);
  const term = (coef: number[]): { se: number; dof: number } => {
    const v = groups.map((g, i) => (coef[i]! ** 2 * variance(g.ys)) / g.ys.length);
    const total = sum(v);
    const dof = total ** 2 / sum(v.map((vi, i) => vi ** 2 / (groups[i]!.ys.length - 1)));
    return { se: Math.sqrt(total), dof };
  };
  const sl = term(a),
    ic = term(b);
  const iv = (est: number, t: { se: number; dof: number }): Interval => {
    const h = tQuantile(0.5 + confidence / 2, Math.max(1, t.dof)) * t.se;
    return { lo: est - h, hi: est + h, confidence };
  };
  const all = groups.flatMap((g) => g.ys.map((y) => ({ x: g.x, y })));
  return {
    slope: fit.slope,
    intercept: fit.intercept,
    slopeStderr: sl.se,
    interceptStderr: ic.se,
    slopeInterval: iv(fit.slope, sl),
    interceptInterval: iv(fit.intercept, ic),
    dof: { slope: sl.dof, intercept: ic.dof },
    r2: linearFit(
      all.map((r) => r.x),
      all.map((r) => r.y),
    ).r2,
  };
}

/** Least-squares slope of y against x. */
export const slope = (x: readonly number[], y: readonly number[]): number => linearFit(x, y).slope;

/**
 * Integrated autocorrelation time τ = 1 + 2 Σ_t ρ(t) of a series, in samples, with Sokal's
 * automatic window (the smallest W with W ≥ c·τ(W)). The variance of the mean is σ²·τ/n.
 */
export function autocorrelationTime(xs: readonly number[], c = 5): { tau: number; window: number } {
  const n = xs.length;
  const m = mean(xs);
  const d = xs.map((x) => x - m);
  const c0 = d.reduce((a, v) => a + v * v, 0) / n;
  if (!(c0 > 0)) return { tau: 1, window: 0 };
  let tau = 1;
  for (let t = 1; t < n; t++) {
    let ct = 0;
    for (let i = 0; i + t < n; i++) ct += d[i]! * d[i + t]!;
    tau += (2 * ct) / n / c0;
    if (t >= c * tau) return { tau: Math.max(tau, 1e-9), window: t };
  }
  return { tau, window: n };
}

/** The mean of a correlated series with a stated-confidence interval from batch means. */
export interface SeriesMean {
  mean: number;
  stderr: number;
  /** Half-width of the two-sided interval at `confidence` (Student t on the batch means). */
  halfWidth: number;
  confidence: number;
  batches: number;
  batchLength: number;
  /** Autocorrelation time the batches were sized by: the larger of the measured one and the hint. */
  tau: number;
  /** Integrated autocorrelation time measured on the series, in samples (Sokal's window). */
  tauMeasured: number;
  /** Batches must span several autocorrelation times to be nearly independent. */
  batchesIndependent: boolean;
}

/**
 * Mean of an autocorrelated series and its error by non-overlapping batch means, with batches
 * at least `tauBatches` autocorrelation times long (τ from the larger of the data's own estimate
 * and `tauHint`, e.g. a known relaxation time), and a Student-t quantile on the batch count:
 * short batches (the old fixed 20) are correlated and understate the error. When the series is
 * too short for `minBatches` such batches, `batchesIndependent` is false and callers should
 * not claim a pass or fail from it.
 */
export function seriesMean(
  xs: readonly number[],
  opts: { confidence?: number; tauHint?: number; tauBatches?: number; minBatches?: number } = {},
): SeriesMean {
  const confidence = opts.confidence ?? 0.99,
    minBatches = opts.minBatches ?? 5;
  const n = xs.length;
  const { tau: measured } = autocorrelationTime(xs);
  const tau = Math.max(measured, opts.tauHint ?? 0, 1);
  const wanted = Math.ceil((opts.tauBatches ?? 5) * tau);
  const batches = Math.max(2, Math.min(Math.floor(n / wanted), 30));
  const batchLength = Math.floor(n / batches);
  const start = n - batches * batchLength; // drop the oldest remainder, keep the equilibrated end
  const means: number[] = [];
  for (let b = 0; b < batches; b++) means.push(mean(xs.slice(start + b * batchLength, start + (b + 1) * batchLength)));
  const stderr = Math.sqrt(variance(means) / batches);
  return {
    mean: mean(xs.slice(start)),
    stderr,
    halfWidth: tQuantile(0.5 + confidence / 2, batches - 1) * stderr,
    confidence,
    batches,
    batchLength,
    tau,
    tauMeasured: measured,
    batchesIndependent: Math.floor(n / wanted) >= minBatches,
  };
}

/** A test that a series has stopped drifting: its least-squares slope, with an honest interval. */
export interface DriftTest {
  slope: number;
  interval: Interval;
  /** Integrated autocorrelation time of the residuals about the line, in samples. */
  tau: number;
  /** Samples over τ: how many nearly independent fluctuations the window holds. */
  effectiveSamples: number;
  /**
   * The interval holds 0 and the window holds at least 5 autocorrelation times: no drift is
   * resolved, and the window is long enough for that to mean something (a smooth curve's
   * residuals about a line look like one slow fluctuation, τ near the window).
   */
  stationary: boolean;
}

/**
 * The integrated autocorrelation time (1 + ρ)/(1 − ρ) of an AR(1) fitted to a zero-mean series:
 * ρ from the lag-1 autocorrelation, corrected for its small-sample bias toward 0 (residuals about
 * a fitted line lose about (2 + 4ρ)/n), at most 0.99. Sokal's windowed estimate needs series many
 * times τ long; at the tens of samples of a window it sees a third of a τ of 19 (measured).
 */
function ar1Time(r: readonly number[]): number {
  const n = r.length;
  let c0 = 0,
    c1 = 0;
  for (let i = 0; i < n; i++) c0 += r[i]! * r[i]!;
  for (let i = 0; i + 1 < n; i++) c1 += r[i]! * r[i + 1]!;
  if (!(c0 > 0)) return 1;
  const raw = c1 / c0;
  const rho = Math.min(0.99, Math.max(0, raw + (2 + 4 * raw) / n));
  return (1 + rho) / (1 - rho);
}

/**
 * Least-squares slope of ys against xs with its standard error widened by the residuals'
 * autocorrelation (σ²·τ/n instead of σ²/n: correlated fluctuations are fewer independent
 * samples), a Student-t quantile on about n/τ − 2 degrees of freedom. Measured on the residuals
 * about the line, τ sees the fluctuations and not the drift, so a slow steady descent is found
 * however smooth it is, and a series fluctuating about a level is not called drifting at
 * much more than 1 − confidence of the time (calibrated on AR(1) series in test/unit). A window
 * under 5 autocorrelation times long is not called stationary: it cannot tell.
 */
export function driftTest(xs: readonly number[], ys: readonly number[], confidence = 0.95): DriftTest {
  const fit = linearFit(xs, ys);
  const residuals = ys.map((y, i) => y - fit.intercept - fit.slope * xs[i]!);
  const t = ar1Time(residuals);
  const se = fit.slopeStderr * Math.sqrt(t);
  const dof = Math.max(1, xs.length / t - 2);
  const half = tQuantile(0.5 + confidence / 2, dof) * se;
  const interval = { lo: fit.slope - half, hi: fit.slope + half, confidence };
  const effectiveSamples = xs.length / t;
  const holdsZero = Number.isFinite(half) ? interval.lo <= 0 && interval.hi >= 0 : fit.slope === 0;
  return { slope: fit.slope, interval, tau: t, effectiveSamples, stationary: holdsZero && effectiveSamples >= 5 };
}
