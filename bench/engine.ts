/**
 * `npm run bench -- engine`: train-step and HVP throughput per available tfjs backend (cpu, wasm,
 * torch) for the 196-30-10 MLP, the small CNN and the MNIST ConvNet, measured side by side in
 * one run, with torch's ratio to the best tfjs backend. Medians over repeats after a warm-up.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../src/data/dataset';
import { useBackend } from '../src/engine/backend';
import { registerTorchBackend } from '../src/engine/torch/backend';
import { hvpAt, type Objective } from '../src/hessian/hvp';
import { buildModel } from '../src/models/model';
import { Trainer } from '../src/train/trainer';
import { timeIt, type Line } from './numerics';

/** Median seconds of `fn` over `reps` runs, after one warm-up (registration, allocator, first-use compilation). */
async function median(fn: () => Promise<unknown>, reps: number): Promise<number> {
  await fn();
  return timeIt(fn, reps);
}

function synthetic(shape: number[], n: number): Dataset {
  const s = shape.reduce((a, b) => a * b, 1);
  return {
    name: `random-${shape.join('x')}`,
    shape,
    classes: 10,
    x: Float32Array.from({ length: n * s }, (_, i) => Math.sin(i * 0.37)),
    y: Int32Array.from({ length: n }, (_, i) => i % 10),
  };
}

/** `batch` samples: each training step's mini-batch (the whole synthetic set) and each HVP's data. */
interface Workload {
  label: string;
  model: string;
  data: Dataset;
  batch: number;
  steps: number;
  reps: number;
}

const WORKLOADS: Workload[] = [
  { label: 'MLP 196-30-10', model: 'mlp:196-30-10', data: synthetic([196], 500), batch: 500, steps: 20, reps: 5 },
  { label: 'small CNN 32x32x3', model: 'small-cnn', data: synthetic([32, 32, 3], 50), batch: 50, steps: 2, reps: 3 },
  { label: 'MNIST ConvNet 28x28', model: 'convnet4', data: synthetic([28, 28, 1], 16), batch: 16, steps: 1, reps: 3 },
];

/** images/s of training and HVPs/s for each workload on the current backend. */
async function measure(w: Workload): Promise<{ train: number; hvp: number }> {
  const model = buildModel(w.model);
  const sgd = { lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 5e-4 };
  const trainer = new Trainer({ model, data: w.data, loss: 'lsce', smoothing: 0.1, batchSize: w.batch, sgd, seed: 1 });
  let state = { step: 0, theta: model.init(1), velocity: null as Float32Array | null };
  const step = async (): Promise<void> => {
    state = await trainer.run(state, state.step + w.steps);
  };
  const train = (w.steps * w.batch) / (await median(step, w.reps));
  const s = w.data.shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(w.data.x.subarray(0, w.batch * s), [w.batch, ...w.data.shape]);
  const y = tf.tensor1d(w.data.y.subarray(0, w.batch), 'int32');
  const obj: Objective = { model, batches: [{ x, y }], loss: 'lsce', smoothing: 0.1 };
  const theta = tf.tensor1d(state.theta),
    v = tf.onesLike(theta);
  const hvp =
    1 /
    (await median(async () => {
      const h = hvpAt(obj, theta, v);
      await h.data();
      h.dispose();
    }, w.reps));
  tf.dispose([theta, v, obj.batches[0]!.x, obj.batches[0]!.y]);
  return { train, hvp };
}

export async function benchEngine(line: Line): Promise<void> {
  const backends: string[] = ['cpu', 'wasm'];
  try {
    const info = registerTorchBackend();
    backends.push('torch');
    const how = `${info.threads} threads, deterministic ${info.deterministic}`;
    line('torch backend', `libtorch ${info.version} on ${info.device}, ${how}`);
  } catch (err) {
    line('torch backend', `absent: ${(err as Error).message}`);
  }
  const rows = new Map<string, Map<string, number>>();
  for (const backend of backends) {
    if (backend === 'torch') await tf.setBackend('torch');
    else await useBackend(backend as 'cpu' | 'wasm');
    for (const w of WORKLOADS) {
      const m = await measure(w);
      const named = [
        [`${w.label} train images/s (batch ${w.batch})`, m.train],
        [`${w.label} HVPs/s (${w.batch} samples)`, m.hvp],
      ] as const;
      for (const [what, value] of named) {
        if (!rows.has(what)) rows.set(what, new Map());
        rows.get(what)!.set(backend, value);
      }
    }
  }
  for (const [what, byBackend] of rows) {
    const cells = [...byBackend].map(([b, v]) => `${b} ${v.toPrecision(3)}`).join('  ');
    const torch = byBackend.get('torch');
    const best = Math.max(...[...byBackend].filter(([b]) => b !== 'torch').map(([, v]) => v));
    line(what, torch === undefined ? cells : `${cells}  torch/best-tfjs ${(torch / best).toFixed(2)}`);
  }
}
