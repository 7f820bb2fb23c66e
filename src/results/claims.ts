/**
 * Claims: one checkable statement of the paper against one run, of a few kinds, each with a
 * verdict that follows from the numbers and can come out either way. A claim never predicts
 * from its own measurement, and nothing that holds by construction is a claim.
 *
 * - `within`: |measured − predicted| ≤ tolerance, the tolerance being the run's statistical
 *   error at a stated confidence plus the neglected terms of the theory (both stated).
 * - `below` / `above`: the measured value (its whole interval, where it has one) is strictly
 *   below / above a bound.
 * - `sign`: a slope or difference whose confidence interval lies on the predicted side of 0.
 * - `fit`: a regression's slope against the paper's; its interval, widened by the tolerance,
 *   must contain the paper's value.
 *
 * Verdicts: `pass`, `fail`, or `inconclusive` (an interval that straddles the prediction, too
 * few points, or a statistical error that could not be trusted).
 */

export type ClaimKind = 'within' | 'below' | 'above' | 'sign' | 'fit';
export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface ClaimInterval {
  lo: number;
  hi: number;
  /** Two-sided confidence level, e.g. 0.95. */
  confidence: number;
}

export interface Claim {
  id: string;
  kind: ClaimKind;
  description: string;
  /** Where the paper says it (figure, section, equation). */
  paper: string;
  /** within: the predicted value; below/above: the bound; sign: 0; fit: the paper's value. */
  predicted: number;
  measured: number;
  /** within and fit: the allowed deviation; 0 for the other kinds. */
  tolerance: number;
  /** What the tolerance is made of, in words (statistical error and neglected terms). */
  toleranceBasis?: string;
  /** The measured value's confidence interval, where it has one. */
  interval?: ClaimInterval;
  /** sign: the side the paper predicts. */
  side?: 'negative' | 'positive';
  verdict: Verdict;
  /** Why a verdict is inconclusive. */
  note?: string;
}

interface Common {
  id: string;
  description: string;
  paper: string;
  measured: number;
  /** Set when the data cannot support a verdict (too few points, untrustworthy error). */
  inconclusiveBecause?: string;
  /** Set when the data contradict a premise of the claim itself (e.g. a series that never settles). */
  failBecause?: string;
}

function settle(
  c: Omit<Claim, 'verdict'> & { failBecause?: string },
  inconclusiveBecause: string | undefined,
  verdict: () => Verdict,
): Claim {
  const { failBecause, ...claim } = c;
  if (failBecause) return { ...claim, verdict: 'fail', note: failBecause };
  if (inconclusiveBecause) return { ...claim, verdict: 'inconclusive', note: inconclusiveBecause };
  if (!Number.isFinite(claim.measured))
    return { ...claim, verdict: 'fail', note: `measured value is ${claim.measured}` };
  return { ...claim, verdict: verdict() };
}

/** |measured − predicted| ≤ statistical + neglected. */
export function withinClaim(
  c: Common & {
    predicted: number;
    statistical: number;
    neglected: number;
    basis: string;
    interval?: ClaimInterval;
  },
): Claim {
  const tolerance = c.statistical + c.neglected;
  const { inconclusiveBecause, statistical: _s, neglected: _n, basis, ...rest } = c;
  return settle({ ...rest, kind: 'within', tolerance, toleranceBasis: basis }, inconclusiveBecause, () =>
    Math.abs(c.measured - c.predicted) <= tolerance ? 'pass' : 'fail',
  );
}

/** The measured value, or its whole interval, lies strictly below (`below`) or above (`above`) a bound. */
export function boundClaim(c: Common & { kind: 'below' | 'above'; bound: number; interval?: ClaimInterval }): Claim {
  const { inconclusiveBecause, bound, ...rest } = c;
  const [lo, hi] = c.interval ? [c.interval.lo, c.interval.hi] : [c.measured, c.measured];
  return settle({ ...rest, predicted: bound, tolerance: 0 }, inconclusiveBecause, () => {
    if (c.kind === 'below') return hi < bound ? 'pass' : lo >= bound ? 'fail' : 'inconclusive';
    return lo > bound ? 'pass' : hi <= bound ? 'fail' : 'inconclusive';
  });
}

/** A slope or difference whose interval lies on the predicted side of zero. */
export function signClaim(c: Common & { side: 'negative' | 'positive'; interval: ClaimInterval }): Claim {
  const { inconclusiveBecause, ...rest } = c;
  const why =
    inconclusiveBecause ??
    (Number.isFinite(c.interval.lo) && Number.isFinite(c.interval.hi) ? undefined : 'no interval (too few points)');
  return settle({ ...rest, kind: 'sign', predicted: 0, tolerance: 0 }, why, () => {
    const [good, bad] =
      c.side === 'negative' ? [c.interval.hi < 0, c.interval.lo > 0] : [c.interval.lo > 0, c.interval.hi < 0];
    return good ? 'pass' : bad ? 'fail' : 'inconclusive';
  });
}

/** A fitted coefficient against the paper's value: the interval widened by `tolerance` must contain it. */
export function fitClaim(
  c: Common & { paperValue: number; interval: ClaimInterval; tolerance: number; basis: string },
): Claim {
  const { inconclusiveBecause, paperValue, basis, ...rest } = c;
  // An interval that also holds 0 cannot tell the paper's coefficient from no effect: it tests nothing.
  const vacuous =
    paperValue !== 0 && c.interval.lo - c.tolerance <= 0 && c.interval.hi + c.tolerance >= 0
      ? "the interval also contains 0: this run cannot tell the paper's coefficient from no effect"
      : undefined;
  return settle(
    { ...rest, kind: 'fit', predicted: paperValue, toleranceBasis: basis },
    inconclusiveBecause ?? vacuous,
    () => (paperValue >= c.interval.lo - c.tolerance && paperValue <= c.interval.hi + c.tolerance ? 'pass' : 'fail'),
  );
}

/** A run's verdict: fail if any claim fails, else inconclusive if any is, else pass. */
export function runVerdict(claims: readonly Claim[]): Verdict {
  const t = tally(claims);
  return t.fail > 0 ? 'fail' : t.inconclusive > 0 ? 'inconclusive' : 'pass';
}

/** Counts of verdicts, for summaries. */
export function tally(claims: readonly Claim[]): Record<Verdict, number> {
  const t: Record<Verdict, number> = { pass: 0, fail: 0, inconclusive: 0 };
  for (const c of claims) t[c.verdict]++;
  return t;
}
