import * as tf from '@tensorflow/tfjs';
import { logSumExp, oneHotFloat } from '../engine/second-order';

/**
 * Losses as batch means, twice differentiable (no tf.losses.softmaxCrossEntropy or logSoftmax:
 * their custom gradients cannot be differentiated again).
 */

export type LossName = 'lsce' | 'mse';

/** Targets (1 − s)·onehot + s/K for labels [batch] int32. */
export function smoothedTargets(labels: tf.Tensor1D, classes: number, smoothing: number): tf.Tensor2D {
  return tf.add(tf.mul(oneHotFloat(labels, classes), 1 - smoothing), smoothing / classes) as tf.Tensor2D;
}

/** Label-smoothing cross entropy: mean over the batch of logsumexp(z) − ⟨t, z⟩. */
export function labelSmoothingCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, smoothing: number): tf.Scalar {
  const t = smoothedTargets(labels, logits.shape[1], smoothing);
  return tf.mean(tf.sub(logSumExp(logits), tf.sum(tf.mul(t, logits), -1))) as tf.Scalar;
}

/** Mean squared error against one-hot targets, averaged over batch and classes (PyTorch's MSELoss). */
export function meanSquaredError(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const t = oneHotFloat(labels, logits.shape[1]);
  return tf.mean(tf.square(tf.sub(logits, t))) as tf.Scalar;
}

export function loss(name: LossName, logits: tf.Tensor2D, labels: tf.Tensor1D, smoothing: number): tf.Scalar {
  return name === 'lsce' ? labelSmoothingCrossEntropy(logits, labels, smoothing) : meanSquaredError(logits, labels);
}
