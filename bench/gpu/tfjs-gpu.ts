/**
 * The accelerator half of the GPU benchmark, run on the lent machine by bench/gpu/run.sh:
 * tfjs on WebGPU trains the VGG-like net (batch 500) and forms HVPs; full-width models' HVPs
 * are checked against finite differences on their smooth twins, and a conv + batch-norm HVP
 * against the CPU backend. Prints one JSON object.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, useBackend } from '../../src/engine/backend';
import { gradientAt, hvpAt, type Objective } from '../../src/hessian/hvp';
import { gaussian } from '../../src/hessian/probes';
import { loss } from '../../src/losses/losses';
import { buildModel, Model } from '../../src/models/model';
import { sgdStep } from '../../src/optim/sgd';
import { CounterRng } from '../../src/rng/philox';
import { vggLike } from './vgg-like';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function randomBatch(model: Model, n: number, seed: number): { x: tf.Tensor; y: tf.Tensor1D } {
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const rng = new CounterRng(seed, 'bench/gpu');
  return {
    x: tf.tensor(
      Float32Array.from({ length: n * size }, (_, i) => rng.normal(0, i)),
      [n, ...model.inputShape],
    ),
    y: tf.tensor1d(
      Int32Array.from({ length: n }, (_, i) => i % model.numClasses),
      'int32',
    ),
  };
}

export async function trainImagesPerSecond(model: Model, batch: number, steps: number): Promise<number> {
  const { x, y } = randomBatch(model, batch, 1);
  let theta = tf.tensor1d(model.init(1));
  let velocity: tf.Tensor1D | null = null;
  const times: number[] = [];
  for (let s = 0; s < steps + 3; s++) {
    const t0 = performance.now();
    const g = tf.tidy(
      () => tf.grad((t: tf.Tensor) => loss('lsce', model.logits(t as tf.Tensor1D, x), y, 0.1))(theta) as tf.Tensor1D,
    );
    const next = sgdStep(theta, g, velocity, { lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 0 });
    g.dispose();
    theta.dispose();
    velocity?.dispose();
    theta = next.theta;
    velocity = next.velocity;
    await theta.data(); // wait for the GPU
    if (s >= 3) times.push(performance.now() - t0);
  }
  tf.dispose([x, y, theta, velocity ?? []]);
  return batch / (median(times) / 1000);
}

export async function hvpsPerSecond(model: Model, batch: number, reps: number): Promise<number> {
  const { x, y } = randomBatch(model, batch, 2);
  const obj: Objective = { model, batches: [{ x, y }], loss: 'lsce', smoothing: 0.1 };
  const theta = tf.tensor1d(model.init(2));
  const v = tf.tensor1d(Float32Array.from(gaussian(model.paramCount, 1, 0)));
  const times: number[] = [];
  for (let r = 0; r < reps + 2; r++) {
    const t0 = performance.now();
    const h = hvpAt(obj, theta, v);
    await h.data();
    h.dispose();
    if (r >= 2) times.push(performance.now() - t0);
  }
  tf.dispose([x, y, theta, v]);
  return 1000 / median(times);
}

/** Relative error of the HVP against central differences (+ one Richardson step) on the smooth twin. */
export async function hvpVsFiniteDifferences(spec: string, batch: number, eps: number): Promise<number> {
  const model = buildModel(spec);
  const { x, y } = randomBatch(model, batch, 3);
  const obj: Objective = { model, batches: [{ x, y }], loss: 'lsce', smoothing: 0.1, forward: { smoothTwin: true } };
  const theta = model.init(3);
  const v = gaussian(model.paramCount, 5, 0);
  const norm = Math.sqrt(v.reduce((s, a) => s + a * a, 0));
  const u = Float32Array.from(v, (a) => a / norm);
  const hv = Float64Array.from(await hvpAt(obj, tf.tensor1d(theta), tf.tensor1d(u)).data());
  const grad = async (s: number): Promise<Float64Array> =>
    Float64Array.from(await gradientAt(obj, tf.tensor1d(Float32Array.from(theta, (t, i) => t + s * u[i]!))).data());
  const d = async (e: number): Promise<Float64Array> => {
    const p = await grad(e),
      m = await grad(-e);
    return p.map((pi, i) => (pi - m[i]!) / (2 * e));
  };
  const d1 = await d(eps),
    d2 = await d(eps / 2);
  const fd = d2.map((a, i) => (4 * a - d1[i]!) / 3);
  let num = 0,
    den = 0;
  fd.forEach((f, i) => {
    num += (hv[i]! - f) ** 2;
    den += f * f;
  });
  tf.dispose([x, y]);
  return Math.sqrt(num / den);
}

async function webgpuVsCpu(): Promise<number> {
  const model = buildModel('vgg16-bn:8');
  const theta = model.init(4);
  const u = Float32Array.from(gaussian(model.paramCount, 6, 0));
  const run = async (): Promise<Float32Array> => {
    const { x, y } = randomBatch(model, 4, 4);
    const out = Float32Array.from(
      await hvpAt(
        { model, batches: [{ x, y }], loss: 'lsce', smoothing: 0.1 },
        tf.tensor1d(theta),
        tf.tensor1d(u),
      ).data(),
    );
    tf.dispose([x, y]);
    return out;
  };
  const gpu = await run();
  await useBackend('cpu');
  const cpu = await run();
  let num = 0,
    den = 0;
  cpu.forEach((c, i) => {
    num += (gpu[i]! - c) ** 2;
    den += c * c;
  });
  return Math.sqrt(num / den);
}

async function main(): Promise<void> {
  // REPRO_GPU_BENCH_DRY=1: the whole script on the CPU backend at toy sizes, to check it here.
  const dry = process.env.REPRO_GPU_BENCH_DRY === '1';
  const { info } = await selectBackend(dry ? 'cpu' : 'webgpu');
  const out: Record<string, unknown> = { backend: info };
  if (dry) {
    const vgg = new Model('vgg-like', [32, 32, 3], 10, vggLike());
    out.trainImagesPerSecond = await trainImagesPerSecond(vgg, 2, 1);
    out.hvpsPerSecondBatch100 = await hvpsPerSecond(vgg, 2, 1);
    out.hvpVsFiniteDifferences = { 'vgg16-bn:4': await hvpVsFiniteDifferences('vgg16-bn:4', 8, 0.4) };
    out.hvpWebgpuVsCpuRelativeDifference = 0;
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  if (info.name !== 'webgpu') {
    process.stdout.write(JSON.stringify({ ...out, error: 'no WebGPU adapter' }) + '\n');
    process.exit(2);
  }
  const vgg = new Model('vgg-like', [32, 32, 3], 10, vggLike());
  out.vggLikeParams = vgg.paramCount;
  out.trainImagesPerSecond = await trainImagesPerSecond(vgg, 500, 10);
  out.hvpsPerSecondBatch100 = await hvpsPerSecond(vgg, 100, 5);
  out.hvpVsFiniteDifferences = {
    'vgg16-bn': await hvpVsFiniteDifferences('vgg16-bn', 8, 0.4),
    'preact-resnet18': await hvpVsFiniteDifferences('preact-resnet18', 4, 0.2),
  };
  out.hvpWebgpuVsCpuRelativeDifference = await webgpuVsCpu();
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

if (require.main === module) void main();
