import { dot, thinQr } from './vectors';

/**
 * The float64 host kernels the trace estimators reduce their probe vectors with: every dot product
 * between two sets of vectors, and a thin QR. In JavaScript here; the torch backend supplies
 * LAPACK/BLAS versions (`hostKernels` in src/engine/torch/native.ts), 10-20 times faster on the
 * O(k²n) work of a 30-product XTrace over 106k parameters.
 */
export interface DenseKernels {
  /** X·Yᵀ of p rows x and q rows y (each contiguous, row-major): every dot product, p×q row-major. */
  gram(x: Float64Array, p: number, y: Float64Array, q: number): Float64Array;
  /**
   * The thin QR of the matrix whose columns are y's k rows: Q's columns as k contiguous rows, and R
   * (k×k, row-major, upper triangular, non-negative diagonal).
   */
  qr(y: Float64Array, k: number): { q: Float64Array; r: Float64Array };
}

/** The rows of one contiguous buffer (k×n) as k vectors, without copying. */
export function rowsOf(buffer: Float64Array, k: number): Float64Array[] {
  const n = buffer.length / k;
  return Array.from({ length: k }, (_, i) => buffer.subarray(i * n, (i + 1) * n));
}

export const jsKernels: DenseKernels = {
  gram(x, p, y, q) {
    const xs = rowsOf(x, p),
      ys = rowsOf(y, q);
    const g = new Float64Array(p * q);
    for (let a = 0; a < p; a++) for (let b = 0; b < q; b++) g[a * q + b] = dot(xs[a]!, ys[b]!);
    return g;
  },
  qr(y, k) {
    const { q, r } = thinQr(rowsOf(y, k));
    const out = new Float64Array(y.length);
    q.forEach((col, i) => out.set(col, (i * y.length) / k));
    return { q: out, r };
  },
};
