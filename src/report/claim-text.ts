import type { Claim } from '../results/claims';

const num = (v: number): string => (Number.isFinite(v) ? Number(v.toPrecision(6)).toString() : String(v));

/** What a claim predicts, in words of its kind: `−0.02 ± 4e-4`, `< 0.6`, `< 0`, `≈ −40 ± 5`. */
export function predictionText(c: Claim): string {
  switch (c.kind) {
    case 'within':
      return `${num(c.predicted)} ± ${num(c.tolerance)}`;
    case 'below':
      return `< ${num(c.predicted)}`;
    case 'above':
      return `> ${num(c.predicted)}`;
    case 'sign':
      return c.side === 'positive' ? '> 0' : '< 0';
    case 'fit':
      return `${num(c.predicted)} (paper) ± ${num(c.tolerance)}`;
  }
}

/** The measured value with its interval where it has one. */
export function measurementText(c: Claim): string {
  const i = c.interval;
  return i ? `${num(c.measured)} [${num(i.lo)}, ${num(i.hi)}] (${Math.round(i.confidence * 100)}%)` : num(c.measured);
}
