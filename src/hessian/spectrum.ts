/** Summaries of a Hessian spectrum that the paper reads off (fig2a, corollary 2.1). */

export interface SpectrumSummary {
  top: number[];
  negativeSum: number;
  negativeCount: number;
}

/** Top-k eigenvalues (descending) and the sum and count of negative eigenvalues. */
export function summarizeSpectrum(eigenvalues: ArrayLike<number>, k: number): SpectrumSummary {
  const sorted = Array.from(eigenvalues).sort((a, b) => b - a);
  const negatives = sorted.filter((x) => x < 0);
  return {
    top: sorted.slice(0, k),
    negativeSum: negatives.reduce((a, b) => a + b, 0),
    negativeCount: negatives.length,
  };
}

/**
 * Log-determinant of the non-degenerate part: Σ log λ over the top-k eigenvalues above
 * `threshold` (the flat directions of an overparameterized valley would send log det to −∞).
 */
export function logDetNonDegenerate(
  eigenvalues: ArrayLike<number>,
  k: number,
  threshold: number,
): { value: number; used: number } {
  const kept = Array.from(eigenvalues)
    .sort((a, b) => b - a)
    .slice(0, k)
    .filter((x) => x > threshold);
  return { value: kept.reduce((s, x) => s + Math.log(x), 0), used: kept.length };
}
