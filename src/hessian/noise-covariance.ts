import { cooperate } from '../engine/cooperate';
import * as tf from '@tensorflow/tfjs';
import { axpy, dot } from '../linalg/vectors';
import { gradientAt, hessianOperator, type Objective } from './hvp';
import { rademacher } from './probes';
import { permutation } from '../data/preprocess';

/**
 * Alignment of the gradient-noise covariance with the Hessian (fig5):
 * CS(H, C) = Tr(HC) / sqrt(Tr(H²)·Tr(C²)), with C = (1/m) Σ dᵢdᵢᵀ, dᵢ = gᵢ − ḡ the centered
 * per-sample gradients. Tr(HC) = (1/m) Σ dᵢᵀHdᵢ (m Hessian products), Tr(C²) = (1/m²) Σᵢⱼ (dᵢ·dⱼ)²
 * from the Gram matrix, and Tr(H²) = ‖H‖²_F either exactly (every column of H: small models)
 * or by Hutchinson on H² (E‖Hz‖², Rademacher z).
 */
export interface AlignmentResult {
  cs: number;
  trHC: number;
  trH2: number;
  trC2: number;
  samples: number;
  method: 'exact' | 'randomized';
}

export async function perSampleGradients(
  obj: Objective,
  theta: Float32Array,
  indices: ArrayLike<number>,
): Promise<Float64Array[]> {
  const flat = tf.tensor1d(theta);
  const { x, y } = obj.batches[0]!;
  try {
    const out: Float64Array[] = [];
    for (let k = 0; k < indices.length; k++) {
      await cooperate();
      const i = indices[k]!;
      const xi = tf.slice(x, [i, ...x.shape.slice(1).map(() => 0)], [1, ...x.shape.slice(1)]);
      const yi = tf.slice(y, [i], [1]) as tf.Tensor1D;
      const g = gradientAt({ ...obj, batches: [{ x: xi, y: yi }] }, flat);
      out.push(Float64Array.from(await g.data()));
      tf.dispose([g, xi, yi]);
    }
    return out;
  } finally {
    flat.dispose();
  }
}

/**
 * tr Σ at θ: the trace of the covariance of every sample's gradient, (1/M) Σᵢ ‖gᵢ − ḡ‖², in
 * float64 (one pass over the per-sample gradients). `obj` holds its data as one batch.
 */
export async function gradientCovarianceTrace(obj: Objective, theta: Float32Array): Promise<number> {
  const m = obj.batches[0]!.y.shape[0];
  const grads = await perSampleGradients(
    obj,
    theta,
    Int32Array.from({ length: m }, (_, i) => i),
  );
  const mean = new Float64Array(theta.length);
  let squares = 0;
  for (const g of grads)
    for (let j = 0; j < g.length; j++) {
      mean[j]! += g[j]! / m;
      squares += (g[j]! * g[j]!) / m;
    }
  return squares - mean.reduce((s, v) => s + v * v, 0);
}

/**
 * CS(H, C) at θ. `obj` must hold its data as one batch (per-sample gradients slice it). With
 * `exact`, C is the covariance of every sample's gradient and H every Hessian column: both
 * traces exact. Otherwise C is estimated from `samples` random samples and the traces by
 * Hutchinson with `probes` Rademacher probes z: Tr(H²) = E‖Hz‖², Tr(HC) = E (Hz)·(Cz) (the
 * same products), with the unbiased sample covariance (1/(m−1)) and ‖C‖²_F estimated without
 * bias for the covariance over all n samples (a small sample's own ‖Ĉ‖² would weigh its ‖dᵢ‖⁴
 * terms n/m times too much and pull CS down).
 */
export async function covarianceAlignment(
  obj: Objective,
  theta: Float32Array,
  opts: { exact: boolean; samples?: number; probes?: number; seed: number },
): Promise<AlignmentResult> {
  const n = obj.batches[0]!.y.shape[0];
  const m = opts.exact ? n : Math.min(n, opts.samples ?? 64);
  const indices = opts.exact
    ? Int32Array.from({ length: n }, (_, i) => i)
    : permutation(n, opts.seed, 'cs/samples').subarray(0, m);
  const grads = await perSampleGradients(obj, theta, indices);
  const mean = new Float64Array(theta.length);
  for (const g of grads) axpy(1 / m, g, mean);
  const centered = grads.map((g) => {
    const d = Float64Array.from(g);
    axpy(-1, mean, d);
    return d;
  });
  const op = hessianOperator(obj, theta);
  try {
    let trHC = 0,
      trC2 = 0,
      trH2 = 0;
    if (opts.exact) {
      for (const d of centered) trHC += dot(d, await op.apply(d)) / m;
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) trC2 += dot(centered[i]!, centered[j]!) ** 2;
      trC2 /= m * m;
      for (let k = 0; k < theta.length; k++) {
        const e = new Float64Array(theta.length);
        e[k] = 1;
        const col = await op.apply(e);
        trH2 += dot(col, col);
      }
    } else {
      // ‖C‖²_F = (1/n²)[Σᵢ‖dᵢ‖⁴ + Σ_{i≠j}(dᵢ·dⱼ)²] over the n samples of the data: each part
      // estimated without bias from the m drawn (their mean, and a U-statistic over distinct pairs).
      let fourth = 0,
        pairs = 0;
      for (let i = 0; i < m; i++) {
        fourth += dot(centered[i]!, centered[i]!) ** 2 / m;
        for (let j = i + 1; j < m; j++) pairs += (2 * dot(centered[i]!, centered[j]!) ** 2) / (m * (m - 1));
      }
      trC2 = fourth / n + ((n - 1) / n) * pairs;
      const probes = opts.probes ?? 32;
      for (let p = 0; p < probes; p++) {
        const z = rademacher(theta.length, opts.seed, p, 'probe/cs');
        const hz = await op.apply(z);
        const cz = new Float64Array(theta.length);
        for (const d of centered) axpy(dot(d, z) / (m - 1), d, cz);
        trH2 += dot(hz, hz) / probes;
        trHC += dot(hz, cz) / probes;
      }
    }
    return {
      cs: trHC / Math.sqrt(trH2 * trC2),
      trHC,
      trH2,
      trC2,
      samples: m,
      method: opts.exact ? 'exact' : 'randomized',
    };
  } finally {
    op.dispose();
  }
}
