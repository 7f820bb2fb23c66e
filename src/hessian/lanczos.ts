import type { LinearOperator } from '../linalg/linear-operator';
import { axpy, dot, norm } from '../linalg/vectors';
import { tridiagonalEigenFull, tridiagonalEigenvalues } from '../linalg/symmetric-eigen';
import { gaussian, rademacher } from './probes';

/**
 * The tridiagonal T of `steps` Lanczos iterations from a start vector (full reorthogonalization), and the Krylov basis.
 */
export async function lanczosTridiagonal(
  op: LinearOperator,
  start: Float64Array,
  steps: number,
): Promise<{ alpha: number[]; beta: number[]; basis: Float64Array[] }> {
  const basis: Float64Array[] = [];
  const alpha: number[] = [],
    beta: number[] = [];
  let v = start.map((x) => x / norm(start));
  for (let j = 0; j < Math.min(steps, op.dim); j++) {
    basis.push(v);
    const w = await op.apply(v);
    const a = dot(w, v);
    alpha.push(a);
    // Full reorthogonalization, twice: float32 products lose orthogonality fast otherwise.
    for (let pass = 0; pass < 2; pass++) for (const b of basis) axpy(-dot(w, b), b, w);
    const b = norm(w);
    if (j === steps - 1 || b < 1e-10 * Math.abs(a) || b === 0) break;
    beta.push(b);
    v = w.map((x) => x / b);
  }
  return { alpha, beta, basis };
}

/** Top-k eigenpairs (descending) by Lanczos: Ritz values and Ritz vectors (unit norm). */
export async function lanczosTopEigenpairs(
  op: LinearOperator,
  opts: { k: number; steps: number; seed: number },
): Promise<{ values: number[]; vectors: Float64Array[] }> {
  const { alpha, beta, basis } = await lanczosTridiagonal(
    op,
    gaussian(op.dim, opts.seed, 0, 'probe/lanczos'),
    Math.max(opts.steps, opts.k),
  );
  const { values, vectors } = tridiagonalEigenFull(alpha, beta);
  const out = { values: [] as number[], vectors: [] as Float64Array[] };
  for (let i = values.length - 1; i >= Math.max(0, values.length - opts.k); i--) {
    const ritz = new Float64Array(op.dim);
    vectors[i]!.forEach((c, j) => axpy(c, basis[j]!, ritz));
    out.values.push(values[i]!);
    out.vectors.push(ritz);
  }
  return out;
}

/** Extreme eigenvalues by Lanczos: Ritz values of a `steps`-step run, ascending. */
export async function lanczosEigenvalues(
  op: LinearOperator,
  opts: { steps: number; seed: number },
): Promise<Float64Array> {
  const { alpha, beta } = await lanczosTridiagonal(op, gaussian(op.dim, opts.seed, 0, 'probe/lanczos'), opts.steps);
  return tridiagonalEigenvalues(alpha, beta);
}

/** Spectral density as nodes and weights (weights sum to 1 per probe; averaged over probes). */
export interface SpectralDensity {
  nodes: number[];
  weights: number[];
}

/**
 * Stochastic Lanczos quadrature (Golub & Meurant; Ghorbani, Krishnan & Xiao 2019): per probe,
 * the Ritz values of a Lanczos run are the nodes and the squared first components of T's
 * eigenvectors the weights; Σ w f(λ) ≈ (1/n) tr f(A).
 */
export async function stochasticLanczosQuadrature(
  op: LinearOperator,
  opts: { steps: number; probes: number; seed: number },
): Promise<SpectralDensity> {
  const nodes: number[] = [],
    weights: number[] = [];
  for (let p = 0; p < opts.probes; p++) {
    const { alpha, beta } = await lanczosTridiagonal(op, rademacher(op.dim, opts.seed, p, 'probe/slq'), opts.steps);
    const { values, vectors } = tridiagonalEigenFull(alpha, beta);
    values.forEach((v, i) => {
      nodes.push(v);
      weights.push(vectors[i]![0]! ** 2 / opts.probes);
    });
  }
  return { nodes, weights };
}

/** (1/n)·tr f(A) from a spectral density, e.g. f = log for log-det / n. */
export function densityIntegral(d: SpectralDensity, f: (x: number) => number): number {
  return d.nodes.reduce((s, x, i) => s + d.weights[i]! * f(x), 0);
}
