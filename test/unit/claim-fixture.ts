import type { Claim } from '../../src/results/claims';

/** A `within` claim at `measured` (interval ±0.05) with the given verdict, for the comparison and trend tests. */
export const claim = (id: string, measured: number, verdict: Claim['verdict']): Claim => ({
  id,
  kind: 'within',
  description: `claim ${id}`,
  paper: 'eq. 1',
  predicted: 1,
  measured,
  tolerance: 0.1,
  interval: { lo: measured - 0.05, hi: measured + 0.05, confidence: 0.95 },
  verdict,
});
