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

export async function perSampleGradients(obj: Objective, theta: Float32Array, indices: ArrayLike<number>): Promise<Float64Array[]> {
  const flat = tf.tensor1d(theta);
  const { x, y } = obj.batches[0]!;
  try {
    const out: Float64Array[] = [];
    for (let k = 0; k < indices.length; k++) {
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
 * CS(H, C) at θ. `obj` must hold its data as one batch (per-sample gradients slice it). With
 * `exact`, every sample and every Hessian column are used; otherwise `samples` random samples and
 * `probes` Hutchinson probes for Tr(H²).
 */
export async function covarianceAlignment(obj: Objective, theta: Float32Array, opts: { exact: boolean; samples?: number; probes?: number; seed: number }): Promise<AlignmentResult> {
  const n = obj.batches[0]!.y.shape[0];
  const m = opts.exact ? n : Math.min(n, opts.samples ?? 64);
  const indices = opts.exact ? Int32Array.from({ length: n }, (_, i) => i) : permutation(n, opts.seed, 'cs/samples').subarray(0, m);
  const grads = await perSampleGradients(obj, theta, indices);
  const mean = new Float64Array(theta.length);
  for (const g of grads) axpy(1 / m, g, mean);
  const centered = grads.map((g) => { const d = Float64Array.from(g); axpy(-1, mean, d); return d; });
  const op = hessianOperator(obj, theta);
  try {
    let trHC = 0;
    for (const d of centered) trHC += dot(d, await op.apply(d)) / m;
    let trC2 = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) trC2 += dot(centered[i]!, centered[j]!) ** 2;
    trC2 /= m * m;
    let trH2 = 0;
    if (opts.exact) {
      for (let k = 0; k < theta.length; k++) {
        const e = new Float64Array(theta.length);
        e[k] = 1;
        const col = await op.apply(e);
        trH2 += dot(col, col);
      }
    } else {
      const probes = opts.probes ?? 32;
      for (let p = 0; p < probes; p++) { const hz = await op.apply(rademacher(theta.length, opts.seed, p, 'probe/cs')); trH2 += dot(hz, hz) / probes; }
    }
    return { cs: trHC / Math.sqrt(trH2 * trC2), trHC, trH2, trC2, samples: m, method: opts.exact ? 'exact' : 'randomized' };
  } finally {
    op.dispose();
  }
}
