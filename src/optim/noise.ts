import { CounterRng } from '../rng/philox';

/**
 * Gradient noise with a designed covariance in the top-k Hessian eigenbasis {u_i, λ_i}:
 * ξ = Σ_i sqrt(C_ii) z_i u_i with z_i ~ N(0, 1) drawn from (seed, 'noise/designed', step, i).
 *
 * - `sgd-like`: C = c·H on the subspace (C_ii = c·λ_i, negative λ_i get none): decreases the trace (Theorem 1).
 * - `isotropic`: C_ii = c: decreases log det of the non-degenerate part (Corollary 2.1).
 * - `designed`: Theorem 2's C_ii = c·λ_i·∂f/∂λ_i for a given f′, decreasing f(λ).
 */
export type NoiseKind = 'sgd-like' | 'isotropic' | 'designed';

export interface NoiseSpec {
  kind: NoiseKind;
  /** Noise strength c. */
  strength: number;
  /** ∂f/∂λ for `designed` (e.g. λ ↦ 1 for the trace, λ ↦ 1/λ for log det). */
  fPrime?: (lambda: number) => number;
}

/** The diagonal of C in the eigenbasis. */
export function noiseVariances(spec: NoiseSpec, eigenvalues: number[]): number[] {
  return eigenvalues.map((l) => {
    switch (spec.kind) {
      case 'sgd-like':
        return Math.max(0, spec.strength * l);
      case 'isotropic':
        return spec.strength;
      case 'designed': {
        if (!spec.fPrime) throw new Error('designed noise needs fPrime (∂f/∂λ)');
        return Math.max(0, spec.strength * l * spec.fPrime(l));
      }
    }
  });
}

/** One noise draw for `step` as a float64 vector of the parameter dimension. */
export function sampleNoise(
  spec: NoiseSpec,
  eigen: { values: number[]; vectors: Float64Array[] },
  seed: number,
  step: number,
): Float64Array {
  const rng = new CounterRng(seed, 'noise/designed');
  const variances = noiseVariances(spec, eigen.values);
  const dim = eigen.vectors[0]?.length ?? 0;
  const xi = new Float64Array(dim);
  variances.forEach((variance, i) => {
    const a = Math.sqrt(variance) * rng.normal(step, i);
    const u = eigen.vectors[i]!;
    for (let j = 0; j < dim; j++) xi[j]! += a * u[j]!;
  });
  return xi;
}
