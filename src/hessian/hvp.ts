import { cooperate } from '../engine/cooperate';
import * as tf from '@tensorflow/tfjs';
import { installSecondOrderGradients } from '../engine/second-order';
import { hostKernels, nativeProgram } from '../engine/torch/native';
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
 * The mean loss at `flat` and its gradient from one forward pass (the loss as {@link lossAt}
 * computes it; the gradient as {@link gradientAt}). The caller disposes `grad`.
 */
export function lossAndGradientAt(obj: Objective, flat: tf.Tensor1D): { loss: number; grad: tf.Tensor1D } {
  const w = weights(obj);
  const program = nativeProgram(obj.model, obj.forward);
  if (program) {
    const { grad, losses } = program.gradient(flat, obj.batches, w, obj.loss, obj.smoothing);
    const each = losses.dataSync();
    losses.dispose();
    return { loss: obj.batches.reduce((s, _b, i) => s + w[i]! * each[i]!, 0), grad };
  }
  let loss = 0;
  const grad = tf.tidy(
    () =>
      obj.batches
        .map((b, i) => {
          const { value, grad: g } = tf.valueAndGrad((t: tf.Tensor) => batchLoss(obj, b, t as tf.Tensor1D))(flat);
          loss += w[i]! * value.arraySync();
          return tf.mul(g, w[i]!);
        })
        .reduce((a, g) => tf.add(a, g)) as tf.Tensor1D,
  );
  return { loss, grad };
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

/*
 * The objective's loss, gradient and Hessian-vector product chunk by chunk (its `batches`, 1000
 * samples each where the stages build them), yielding to the event loop between chunks. A
 * full-batch gradient over CIFAR on the tfjs path takes minutes, far over a heartbeat timeout:
 * between chunks the activity's heartbeats (and a cancellation) get through. The chunks are
 * weighted and added in the same order as `lossAt`/`gradientAt`/`hvpAt` do at once (bit for bit
 * the same on the tfjs path).
 */

const one = (obj: Objective, i: number): Objective => ({ ...obj, batches: [obj.batches[i]!] });

/** Mean loss at `flat`, a chunk at a time. */
export async function lossInChunks(obj: Objective, flat: tf.Tensor1D): Promise<number> {
  const w = weights(obj);
  let s = 0;
  for (let i = 0; i < obj.batches.length; i++) {
    s += w[i]! * lossAt(one(obj, i), flat);
    await cooperate();
  }
  return s;
}

/** Sum over chunks of `w_i · f(chunk i)`, a chunk at a time (a new tensor; the caller disposes it). */
async function weightedSum(obj: Objective, f: (chunk: Objective, i: number) => tf.Tensor1D): Promise<tf.Tensor1D> {
  const w = weights(obj);
  let acc: tf.Tensor1D | undefined;
  for (let i = 0; i < obj.batches.length; i++) {
    const part = f(one(obj, i), i);
    const scaled = tf.mul(part, w[i]!) as tf.Tensor1D;
    part.dispose();
    if (acc) {
      const next = tf.add(acc, scaled) as tf.Tensor1D;
      acc.dispose();
      scaled.dispose();
      acc = next;
    } else acc = scaled;
    await cooperate();
  }
  return acc!;
}

/** Gradient of the mean loss at `flat`, a chunk at a time. */
export function gradientInChunks(obj: Objective, flat: tf.Tensor1D): Promise<tf.Tensor1D> {
  return weightedSum(obj, (chunk) => gradientAt(chunk, flat));
}

/** The mean loss and its gradient at `flat` (one forward pass for both), a chunk at a time. */
export async function lossAndGradientInChunks(
  obj: Objective,
  flat: tf.Tensor1D,
): Promise<{ loss: number; grad: tf.Tensor1D }> {
  const w = weights(obj);
  let loss = 0;
  const grad = await weightedSum(obj, (chunk, i) => {
    const r = lossAndGradientAt(chunk, flat);
    loss += w[i]! * r.loss;
    return r.grad;
  });
  return { loss, grad };
}

/** H(flat)·v, a chunk at a time. */
export function hvpInChunks(obj: Objective, flat: tf.Tensor1D, v: tf.Tensor1D): Promise<tf.Tensor1D> {
  return weightedSum(obj, (chunk) => hvpAt(chunk, flat, v));
}

/** The Hessian at θ as a {@link LinearOperator} for the estimators (float64 host vectors). */
export function hessianOperator(obj: Objective, theta: Float32Array): LinearOperator & { dispose(): void } {
  installSecondOrderGradients();
  const flat = tf.tensor1d(theta);
  return {
    dim: theta.length,
    kernels: hostKernels() ?? undefined,
    async apply(v: Float64Array): Promise<Float64Array> {
      await cooperate();
      const vt = tf.tensor1d(Float32Array.from(v));
      const hv = await hvpInChunks(obj, flat, vt);
      vt.dispose();
      const out = Float64Array.from(await hv.data());
      hv.dispose();
      return out;
    },
    dispose: () => flat.dispose(),
  };
}
