import type { DenseKernels } from './dense-kernels';

/**
 * A symmetric linear operator known only through products, e.g. v ↦ Hv by double backprop.
 * Vectors are float64 on the host: the estimators' reductions (QR, dot products) need the
 * precision even when the products themselves come from float32 device code.
 */
export interface LinearOperator {
  readonly dim: number;
  apply(v: Float64Array): Promise<Float64Array>;
  /** Faster host kernels for the estimators' reductions where the operator's engine has them. */
  readonly kernels?: DenseKernels;
}

/** An explicit dense symmetric matrix (row-major, n×n) as an operator: tests and small models. */
export function denseOperator(matrix: Float64Array, n: number): LinearOperator {
  return {
    dim: n,
    async apply(v) {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        const row = i * n;
        for (let j = 0; j < n; j++) s += matrix[row + j]! * v[j]!;
        out[i] = s;
      }
      return out;
    },
  };
}

/** Counts products, so estimators can report their cost in HVPs. */
export function countingOperator(op: LinearOperator): LinearOperator & { count: number } {
  const counted = {
    dim: op.dim,
    kernels: op.kernels,
    count: 0,
    async apply(v: Float64Array) {
      counted.count++;
      return op.apply(v);
    },
  };
  return counted;
}
