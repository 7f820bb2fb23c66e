import * as tf from '@tensorflow/tfjs';
import { float64Program } from '../engine/torch/native';
import type { LinearOperator } from '../linalg/linear-operator';
import { symmetricEigenvalues } from '../linalg/symmetric-eigen';
import { hessianOperator, lossAt, type Objective } from './hvp';

/**
 * The full Hessian of a small model in float64, one column per Hessian-vector product, then
 * symmetrized ((H + Hᵀ)/2 removes float32 asymmetry of the products). n products and n² memory:
 * for the 6220-parameter MLP, 6220 products and 310 MB.
 */
export async function formHessian(op: LinearOperator, onProgress?: (done: number) => void): Promise<Float64Array> {
  const n = op.dim;
  const h = new Float64Array(n * n);
  const e = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e[j] = 1;
    const col = await op.apply(e);
    e[j] = 0;
    for (let i = 0; i < n; i++) h[i * n + j] = col[i]!;
    onProgress?.(j + 1);
  }
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const s = (h[i * n + j]! + h[j * n + i]!) / 2;
      h[i * n + j] = s;
      h[j * n + i] = s;
    }
  return h;
}

/** Every eigenvalue (ascending) of the Hessian, exactly up to the float32 error of the products. */
export async function exactSpectrum(
  op: LinearOperator,
  onProgress?: (done: number) => void,
): Promise<{ eigenvalues: Float64Array; trace: number }> {
  const h = await formHessian(op, onProgress);
  let trace = 0;
  for (let i = 0; i < op.dim; i++) trace += h[i * op.dim + i]!;
  return { eigenvalues: symmetricEigenvalues(h, op.dim), trace };
}

/** An exact spectrum and how its Hessian was formed. */
export interface ExactSpectrum {
  eigenvalues: Float64Array;
  trace: number;
  loss: number;
  /**
   * `float64`: parameters, data and products in double (the torch addon); `float32-products`:
   * Hessian-vector products in float32 (every other backend), each entry off by its rounding, so
   * the near-zero eigenvalues of a degenerate valley are blurred by about 1e-7 of the largest.
   */
  precision: 'float64' | 'float32-products';
}

/**
 * Every eigenvalue of the objective's Hessian at theta: in float64 on the torch backend (seconds
 * to a minute for 6,220 parameters), else from float32 products and a JS eigensolver (minutes).
 */
export async function exactSpectrumOf(obj: Objective, theta: Float32Array): Promise<ExactSpectrum> {
  const total = obj.batches.reduce((s, b) => s + b.y.shape[0], 0);
  const program = float64Program(obj.model, obj.forward);
  if (program) {
    const flat = tf.tensor1d(theta);
    try {
      const weights = obj.batches.map((b) => b.y.shape[0] / total);
      const s = await program.spectrum(flat, obj.batches, weights, obj.loss, obj.smoothing);
      return { ...s, precision: 'float64' };
    } finally {
      flat.dispose();
    }
  }
  const op = hessianOperator(obj, theta);
  const flat = tf.tensor1d(theta);
  try {
    const { eigenvalues, trace } = await exactSpectrum(op);
    return { eigenvalues, trace, loss: lossAt(obj, flat), precision: 'float32-products' };
  } finally {
    flat.dispose();
    op.dispose();
  }
}
