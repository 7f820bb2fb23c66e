import * as tf from '@tensorflow/tfjs';
import { cooperate } from '../engine/cooperate';
import type { Moments } from '../models/builder';
import type { Batch } from '../hessian/hvp';
import type { Model } from '../models/model';

/**
 * Batch-norm statistics recomputed for the weights at hand over a whole data set (as
 * torch.optim.swa_utils.update_bn does): each layer's mean and variance pooled over all
 * batches, each batch normalized by its own moments on the way. Interpolated or projected
 * weights need this: running statistics from elsewhere do not belong to them. Yields to the
 * event loop between batches.
 */
export async function recomputeBatchNormStats(
  model: Model,
  flat: tf.Tensor1D,
  batches: Batch[],
  smoothTwin = false,
): Promise<Map<string, Moments>> {
  const total = batches.reduce((s, b) => s + b.y.shape[0], 0);
  const sums = new Map<string, { mean: tf.Tensor; square: tf.Tensor }>();
  for (const b of batches) {
    const record = new Map<string, Moments>();
    tf.tidy(() => {
      model.logits(flat, b.x, { batchNorm: { mode: 'batch', record }, smoothTwin });
    });
    const w = b.y.shape[0] / total;
    for (const [name, m] of record) {
      const acc = sums.get(name);
      const mean = tf.mul(m.mean, w),
        square = tf.mul(tf.add(m.variance, tf.square(m.mean)), w);
      if (acc) {
        sums.set(name, { mean: tf.add(acc.mean, mean), square: tf.add(acc.square, square) });
        tf.dispose([acc.mean, acc.square, mean, square]);
      } else {
        sums.set(name, { mean, square });
      }
      tf.dispose([m.mean, m.variance]);
    }
    await cooperate(); // a pass over CIFAR takes long: let heartbeats through between batches
  }
  const stats = new Map<string, Moments>();
  for (const [name, { mean, square }] of sums) {
    stats.set(name, {
      mean: mean as tf.Tensor1D,
      variance: tf.tidy(() => tf.relu(tf.sub(square, tf.square(mean)))) as tf.Tensor1D,
    });
    square.dispose();
  }
  return stats;
}

export function disposeStats(stats: Map<string, Moments>): void {
  for (const m of stats.values()) tf.dispose([m.mean, m.variance]);
}
