import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset';
import type { LossName } from '../losses/losses';
import type { Model } from '../models/model';
import { WeightsError } from '../models/weights-io';
import { exactSpectrum } from './full-hessian';
import { hessianOperator, lossAt, type Objective } from './hvp';
import { densityIntegral, lanczosEigenvalues, stochasticLanczosQuadrature } from './lanczos';
import { summarizeSpectrum } from './spectrum';
import { hutchPlusPlus, xtrace, type TraceEstimate } from './trace-estimators';
import { countingOperator } from '../linalg/linear-operator';

export interface HessianReport {
  params: number;
  samples: number;
  loss: number;
  trace: { value: number; stderr: number; method: string; hvps: number };
  eigenvalues: { top: number[]; negativeSum: number; negativeCount: number; method: string; stderr?: number };
}

export interface AnalyzeOptions {
  loss: LossName;
  smoothing: number;
  /** Form the full Hessian: exact trace and spectrum (small models). */
  exact: boolean;
  /** Hessian-vector products for the trace estimate. */
  probes: number;
  top: number;
  seed: number;
  estimator?: 'xtrace' | 'hutch++';
  /** Samples per chunk of the full-batch objective. */
  chunk?: number;
  onProgress?: (message: string) => void;
}

/** Loss, trace and spectrum summary of the full-batch Hessian of `model` at `theta` on `data`. */
export async function analyzeHessian(
  model: Model,
  theta: Float32Array,
  data: Dataset,
  opts: AnalyzeOptions,
): Promise<HessianReport> {
  const chunk = opts.chunk ?? 1000;
  const n = data.y.length;
  const s = data.shape.reduce((a, b) => a * b, 1);
  const batches = [];
  for (let at = 0; at < n; at += chunk) {
    const m = Math.min(chunk, n - at);
    batches.push({
      x: tf.tensor(data.x.subarray(at * s, (at + m) * s), [m, ...data.shape]),
      y: tf.tensor1d(data.y.subarray(at, at + m), 'int32'),
    });
  }
  const obj: Objective = { model, batches, loss: opts.loss, smoothing: opts.smoothing };
  const flat = tf.tensor1d(theta);
  const hessian = hessianOperator(obj, theta);
  const op = countingOperator(hessian);
  try {
    const loss = lossAt(obj, flat);
    if (!Number.isFinite(loss))
      throw new WeightsError(
        `the loss at these weights on these data is ${loss}: their scale overflows float32; check both`,
      );
    if (opts.exact) {
      const { eigenvalues, trace } = await exactSpectrum(op, (done) => {
        if (done % 500 === 0) opts.onProgress?.(`Hessian columns: ${done}/${model.paramCount}`);
      });
      return {
        params: model.paramCount,
        samples: n,
        loss,
        trace: { value: trace, stderr: 0, method: 'exact', hvps: op.count },
        eigenvalues: { ...summarizeSpectrum(eigenvalues, opts.top), method: 'exact' },
      };
    }
    const estimate: TraceEstimate =
      opts.estimator === 'hutch++'
        ? await hutchPlusPlus(op, { matvecs: opts.probes, seed: opts.seed })
        : await xtrace(op, { matvecs: opts.probes, seed: opts.seed });
    const hvps = op.count;
    const steps = Math.min(model.paramCount, Math.max(2 * opts.top, 30));
    const ritz = Array.from(await lanczosEigenvalues(op, { steps, seed: opts.seed })).sort((a, b) => b - a);
    // Negative part from stochastic Lanczos quadrature: n·∫ min(λ, 0) dμ and n·μ(λ < 0), with
    // the standard error over probes.
    const sums: number[] = [],
      counts: number[] = [];
    for (let p = 0; p < 4; p++) {
      const d = await stochasticLanczosQuadrature(op, { steps, probes: 1, seed: opts.seed + 1000 + p });
      sums.push(model.paramCount * densityIntegral(d, (x) => Math.min(x, 0)));
      counts.push(model.paramCount * densityIntegral(d, (x) => (x < 0 ? 1 : 0)));
    }
    const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const mean = avg(sums);
    const sd = Math.sqrt(sums.reduce((a, x) => a + (x - mean) ** 2, 0) / (sums.length - 1) / sums.length);
    return {
      params: model.paramCount,
      samples: n,
      loss,
      trace: { value: estimate.value, stderr: estimate.stderr, method: estimate.method, hvps },
      eigenvalues: {
        top: ritz.slice(0, opts.top),
        negativeSum: mean,
        negativeCount: Math.round(avg(counts)),
        method: 'lanczos + slq',
        stderr: sd,
      },
    };
  } finally {
    flat.dispose();
    hessian.dispose();
    batches.forEach((b) => tf.dispose([b.x, b.y]));
  }
}
