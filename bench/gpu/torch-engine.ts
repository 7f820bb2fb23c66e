/**
 * The accelerator half of the torch engine benchmark, run on the lent machine by
 * bench/gpu/torch-engine.sh after it builds the addon against that machine's PyTorch (CUDA).
 * For the VGG-like net and PreAct-ResNet18 (batch 500, fp32 and TF32; PyTorch's defaults
 * otherwise: no cuDNN autotuning, nondeterministic algorithms) it measures:
 * - the native programs (`torch.native` on): training through the Trainer (data set on the
 *   device, 10 steps per epoch, losses read every 20 steps), the same steps issued straight to
 *   the addon (host issue time against wall time per step), and HVPs;
 * - the tfjs kernels on torch-cuda (the reference path): a train step and an HVP;
 * - synchronisations (reads from the device) and fallbacks (tfjs kernels through the cpu
 *   backend, models off the native path) during the measured native steps;
 * - agreement of native HVPs on the GPU with the pure-JS cpu backend (reduced widths).
 * Prints one JSON object; bench/gpu/torch_engine_reference.py times the same in PyTorch.
 * REPRO_GPU_BENCH_DRY=1 runs it all on torch-cpu at toy sizes, to check the script here.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../src/data/dataset';
import { useBackend } from '../../src/engine/backend';
import { fallbacks, loadTorchAddon, registerTorchBackend, type TorchAddon } from '../../src/engine/torch/backend';
import { deviceDataset, nativeFallbacks, nativeProgram, releaseDeviceDataset } from '../../src/engine/torch/native';
import { hvpAt } from '../../src/hessian/hvp';
import { gaussian } from '../../src/hessian/probes';
import { buildModel, Model } from '../../src/models/model';
import { CounterRng, streamId } from '../../src/rng/philox';
import { Trainer } from '../../src/train/trainer';
import { hvpsPerSecond, trainImagesPerSecond } from './tfjs-gpu';
import { vggLike } from './vgg-like';

const SGD = { lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 5e-4 };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function withNative<T>(mode: 'on' | 'off', f: () => Promise<T>): Promise<T> {
  process.env.REPRO_TORCH_NATIVE = mode;
  return f().finally(() => delete process.env.REPRO_TORCH_NATIVE);
}

/** Counts the addon's reads from the device (downloads, synchronisations) while `f` runs. */
async function countingSyncs<T>(addon: TorchAddon, f: () => Promise<T>): Promise<{ value: T; syncs: number }> {
  const download = addon.download,
    synchronize = addon.synchronize;
  let syncs = 0;
  addon.download = (h) => (syncs++, download.call(addon, h));
  addon.synchronize = () => (syncs++, synchronize.call(addon));
  try {
    return { value: await f(), syncs };
  } finally {
    addon.download = download;
    addon.synchronize = synchronize;
  }
}

function randomData(model: Model, n: number): Dataset {
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const rng = new CounterRng(1, 'bench/gpu');
  return {
    name: 'random',
    shape: model.inputShape,
    classes: model.numClasses,
    x: Float32Array.from({ length: n * size }, (_, i) => rng.normal(0, i)),
    y: Int32Array.from({ length: n }, (_, i) => i % model.numClasses),
  };
}

/** Native training through the Trainer: images/s over `steps` steps after a warm-up. */
async function nativeTrainer(model: Model, batch: number, steps: number): Promise<Record<string, number>> {
  const data = randomData(model, 10 * batch);
  const trainer = new Trainer({ model, data, loss: 'lsce', smoothing: 0.1, batchSize: batch, sgd: SGD, seed: 1 });
  let state = await trainer.run({ step: 0, theta: model.init(1), velocity: null }, 3, { lossEvery: 20 });
  const l = loadTorchAddon();
  if (!('addon' in l)) throw new Error(l.reason);
  const t0 = performance.now();
  const { syncs } = await countingSyncs(l.addon, async () => {
    state = await trainer.run(state, state.step + steps, { lossEvery: 20 });
  });
  const ms = performance.now() - t0;
  releaseDeviceDataset();
  // θ and the velocity go up once and come back once per run (and the losses once per 20 steps).
  return { imagesPerSecond: (steps * batch) / (ms / 1000), syncsPerRun: syncs };
}

/** The same steps issued straight to the addon: host time to issue them against wall time. */
async function nativeIssue(model: Model, batch: number, steps: number): Promise<Record<string, number>> {
  const program = nativeProgram(model);
  if (!program) throw new Error(`${model.name}: no native program`);
  const addon = program.addon;
  const data = deviceDataset(program, randomData(model, steps * batch));
  const theta = addon.upload(model.init(1), 0, [model.paramCount]);
  const velocity = addon.upload(new Float32Array(model.paramCount), 0, [model.paramCount]);
  const order = addon.permutation(steps * batch, 1, 0, streamId('data/order'), 0);
  const sgd = Float64Array.of(SGD.lr, SGD.momentum, SGD.dampening, SGD.weightDecay, 0);
  const train = (k: number, has: boolean): number =>
    addon.programTrain(program.id, theta, velocity, has, data.x, data.y, order, 0, batch, k, -1, 4, sgd, 0, 0.1);
  addon.free(train(2, false));
  addon.synchronize();
  const issue: number[] = [],
    wall: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    const losses = train(steps, true);
    const t1 = performance.now();
    addon.synchronize();
    const t2 = performance.now();
    addon.free(losses);
    issue.push((t1 - t0) / steps);
    wall.push((t2 - t0) / steps);
  }
  [theta, velocity, order].forEach((h) => addon.free(h));
  releaseDeviceDataset();
  return {
    imagesPerSecond: batch / (median(wall) / 1000),
    hostIssueMsPerStep: median(issue),
    wallMsPerStep: median(wall),
  };
}

/** Relative difference of one HVP on torch (native on the GPU) against the pure-JS cpu backend. */
async function agreement(spec: string, n: number): Promise<number> {
  const model = buildModel(spec);
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const rng = new CounterRng(5, 'test/data');
  const xs = Float32Array.from({ length: n * size }, (_, i) => rng.normal(0, i));
  const labels = Int32Array.from({ length: n }, (_, i) => Math.floor(rng.uniform(1, i) * model.numClasses));
  const theta = model.init(2),
    v = Float32Array.from(gaussian(model.paramCount, 9, 0));
  const run = async (backend: 'cpu' | 'torch'): Promise<Float32Array> => {
    await useBackend(backend);
    const x = tf.tensor(xs, [n, ...model.inputShape]),
      y = tf.tensor1d(labels, 'int32');
    const th = tf.tensor1d(theta),
      vt = tf.tensor1d(v);
    const h = hvpAt({ model, batches: [{ x, y }], loss: 'lsce', smoothing: 0.1 }, th, vt);
    const out = Float32Array.from(await h.data());
    tf.dispose([x, y, h, th, vt]);
    return out;
  };
  const gpu = await withNative('on', () => run('torch')),
    cpu = await run('cpu');
  await useBackend('torch');
  let num = 0,
    den = 0;
  cpu.forEach((c, i) => {
    num += (gpu[i]! - c) ** 2;
    den += c * c;
  });
  return Math.sqrt(num / den);
}

async function main(): Promise<void> {
  const dry = process.env.REPRO_GPU_BENCH_DRY === '1';
  const info = registerTorchBackend({
    device: dry ? 'cpu' : 'cuda',
    threads: 0,
    deterministic: false,
    cudnnBenchmark: false,
    tf32: false,
  });
  await tf.setBackend('torch');
  const l = loadTorchAddon();
  if (!('addon' in l)) throw new Error(l.reason);
  const out: Record<string, unknown> = { torch: info };
  // Each figure goes to stderr as it is measured, so a run cut short by its time limit still reports.
  const record = (key: string, value: unknown): void => {
    out[key] = value;
    process.stderr.write(`measured ${key}: ${JSON.stringify(value)}\n`);
  };
  const batch = dry ? 4 : 500,
    steps = dry ? 2 : 20,
    reps = dry ? 1 : 3;
  const agreements: Record<string, number> = {};
  const agree = async (specs: ReadonlyArray<readonly [string, number]>): Promise<void> => {
    for (const [spec, n] of specs) agreements[spec] = await agreement(spec, n);
    record('hvpNativeVsCpuRelativeDifference', agreements);
  };
  await agree([
    ['small-cnn', 4],
    ['mlp:196-30-10', 32],
  ]);
  const nets: Array<[string, Model]> = [
    ['vgg-like', new Model('vgg-like', [32, 32, 3], 10, vggLike())],
    ['preact-resnet18', buildModel(dry ? 'preact-resnet18:4' : 'preact-resnet18')],
  ];
  for (const tf32 of [false, true]) {
    l.addon.configure({ tf32 });
    const precision = tf32 ? 'tf32' : 'fp32';
    for (const [name, model] of nets) {
      await withNative('on', async () => {
        record(`${name} native train ${precision}`, await nativeTrainer(model, batch, steps));
        record(`${name} native issue ${precision}`, await nativeIssue(model, batch, dry ? 2 : 10));
        const { value, syncs } = await countingSyncs(l.addon, () => hvpsPerSecond(model, batch, reps));
        record(`${name} native HVPs/s ${precision}`, value);
        record(`${name} native HVP reads per HVP ${precision}`, syncs / (reps + 2));
      });
      // The tfjs kernels (PreAct-ResNet18: 2 s a step, 11 s an HVP in the last call) in fp32 only.
      if (!tf32)
        await withNative('off', async () => {
          record(`${name} tfjs train img/s ${precision}`, await trainImagesPerSecond(model, batch, dry ? 1 : 5));
          record(`${name} tfjs HVPs/s ${precision}`, await hvpsPerSecond(model, batch, 1));
        });
    }
  }
  l.addon.configure({ tf32: false });
  record('fallbacks', { tfjsKernelsThroughCpu: fallbacks(), nativeToTfjs: nativeFallbacks() });
  if (!dry)
    await agree([
      ['vgg16-bn:4', 8],
      ['preact-resnet18:4', 2],
      ['densenet-bc:2', 2],
    ]);
  out.addonTensorsAtEnd = l.addon.stats();
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

void main();
