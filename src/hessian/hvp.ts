import { cooperate } from '../engine/cooperate';
import * as tf from '@tensorflow/tfjs';
import { installSecondOrderGradients } from '../engine/second-order';
import { nativeProgram } from '../engine/torch/native';
import { loss, type LossName } from '../losses/losses';
import type { LinearOperator } from '../linalg/linear-operator';
import type { ForwardOptions, Model } from '../models/model';

/** One chunk of the data the objective averages over. */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor1D;
}

/**
 * The training objective as a function of the flat parameter vector: the mean loss over all
 * samples of `batches` (chunked so large data sets fit in memory; chunks are weighted by size).
 */
export interface Objective {
  model: Model;
  batches: Batch[];
  loss: LossName;
  smoothing: number;
  forward?: ForwardOptions;
}

function weights(obj: Objective): number[] {
  const total = obj.batches.reduce((s, b) => s + b.y.shape[0], 0);
  return obj.batches.map((b) => b.y.shape[0] / total);
}

function batchLoss(obj: Objective, b: Batch, flat: tf.Tensor1D): tf.Scalar {
  return loss(obj.loss, obj.model.logits(flat, b.x, obj.forward), b.y, obj.smoothing);
}

/**
 * Mean loss at `flat`. Here and below, on the torch backend with native programs on
 * (`torch.native`), one native call computes over every chunk (src/engine/torch/native.ts).
 */
export function lossAt(obj: Objective, flat: tf.Tensor1D): number {
  const w = weights(obj);
  const program = nativeProgram(obj.model, obj.forward);
  if (program) {
    const losses = program.losses(flat, obj.batches, obj.loss, obj.smoothing);
    return obj.batches.reduce((s, _b, i) => s + w[i]! * losses[i]!, 0);
  }
  return obj.batches.reduce((s, b, i) => s + w[i]! * tf.tidy(() => batchLoss(obj, b, flat).arraySync()), 0);
}

/** Gradient of the mean loss at `flat` (a new tensor; the caller disposes it). */
export function gradientAt(obj: Objective, flat: tf.Tensor1D): tf.Tensor1D {
  const w = weights(obj);
  const program = nativeProgram(obj.model, obj.forward);
  if (program) {
    const { grad, losses } = program.gradient(flat, obj.batches, w, obj.loss, obj.smoothing);
    losses.dispose();
    return grad;
  }
  return tf.tidy(
    () =>
      obj.batches
        .map((b, i) => tf.mul(tf.grad((t: tf.Tensor) => batchLoss(obj, b, t as tf.Tensor1D))(flat), w[i]!))
        .reduce((a, g) => tf.add(a, g)) as tf.Tensor1D,
  );
}

/**
 * Exact Hessian-vector product H(flat)·v by double backprop: the gradient of ⟨∇L(θ), v⟩.
 * Needs {@link installSecondOrderGradients} (done here) for exact second derivatives.
 */
export function hvpAt(obj: Objective, flat: tf.Tensor1D, v: tf.Tensor1D): tf.Tensor1D {
  installSecondOrderGradients();
  const w = weights(obj);
  const program = nativeProgram(obj.model, obj.forward);
  if (program) return program.hvp(flat, v, obj.batches, w, obj.loss, obj.smoothing);
  return tf.tidy(
    () =>
      obj.batches
        .map((b, i) => {
          const directional = (t: tf.Tensor): tf.Scalar =>
            tf.sum(tf.mul(tf.grad((u: tf.Tensor) => batchLoss(obj, b, u as tf.Tensor1D))(t), v));
          return tf.mul(tf.grad(directional)(flat), w[i]!);
        })
        .reduce((a, h) => tf.add(a, h)) as tf.Tensor1D,
  );
}

/** The Hessian at θ as a {@link LinearOperator} for the estimators (float64 host vectors). */
export function hessianOperator(obj: Objective, theta: Float32Array): LinearOperator & { dispose(): void } {
  installSecondOrderGradients();
  const flat = tf.tensor1d(theta);
  return {
    dim: theta.length,
    async apply(v: Float64Array): Promise<Float64Array> {
      await cooperate();
      const vt = tf.tensor1d(Float32Array.from(v));
      const hv = hvpAt(obj, flat, vt);
      vt.dispose();
      const out = Float64Array.from(await hv.data());
      hv.dispose();
      return out;
    },
    dispose: () => flat.dispose(),
  };
}
