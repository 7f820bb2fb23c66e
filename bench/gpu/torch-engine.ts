/**
 * The accelerator half of the torch engine benchmark, run on the lent machine by
 * bench/gpu/torch-engine.sh after it builds the addon against that machine's PyTorch (CUDA):
 * agreement of HVPs on torch-cuda with the pure-JS cpu backend, then the VGG-like net and
 * PreAct-ResNet18 train step at batch 500 and one HVP at batch 500, fp32 and TF32 (PyTorch's
 * defaults otherwise: no cuDNN autotuning, nondeterministic algorithms). Prints one JSON object;
 * bench/gpu/torch_engine_reference.py times the same workloads in PyTorch in the same call.
 * REPRO_GPU_BENCH_DRY=1 runs it all on torch-cpu at toy sizes, to check the script here.
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/engine/backend';
import { loadTorchAddon, registerTorchBackend } from '../../src/engine/torch/backend';
import { hvpAt } from '../../src/hessian/hvp';
import { gaussian } from '../../src/hessian/probes';
import { buildModel, Model } from '../../src/models/model';
import { CounterRng } from '../../src/rng/philox';
import { hvpsPerSecond, trainImagesPerSecond } from './tfjs-gpu';
import { vggLike } from './vgg-like';

/** Relative difference of one HVP on torch against the cpu backend (tests' reduced-width configs). */
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
  const gpu = await run('torch'),
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

/** Kernel count, summed kernel milliseconds and the ten costliest kernels of what `f` runs. */
async function profile(f: () => Promise<number>): Promise<Record<string, unknown>> {
  const p = await tf.profile(f);
  const by = new Map<string, [number, number]>();
  for (const k of p.kernels) {
    const e = by.get(k.name) ?? [0, 0];
    by.set(k.name, [e[0] + 1, e[1] + Number(k.kernelTimeMs)]);
  }
  const top = [...by]
    .sort((a, b) => b[1][1] - a[1][1])
    .slice(0, 10)
    .map(([n, [c, ms]]) => `${n} x${c} ${ms.toFixed(1)} ms`);
  const ms = p.kernels.reduce((a, k) => a + Number(k.kernelTimeMs), 0);
  return { kernels: p.kernels.length, kernelMs: Math.round(ms), top };
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
    steps = dry ? 1 : 10,
    reps = dry ? 1 : 3;
  const agreements: Record<string, number> = {};
  const agree = async (specs: ReadonlyArray<readonly [string, number]>): Promise<void> => {
    for (const [spec, n] of specs) agreements[spec] = await agreement(spec, n);
    record('hvpTorchVsCpuRelativeDifference', agreements);
  };
  await agree([['small-cnn', 4]]);
  const nets: Array<[string, Model]> = [
    ['vgg-like', new Model('vgg-like', [32, 32, 3], 10, vggLike())],
    ['preact-resnet18', buildModel('preact-resnet18')],
  ];
  for (const tf32 of [false, true]) {
    l.addon.configure({ tf32 });
    const precision = tf32 ? 'tf32' : 'fp32';
    for (const [name, model] of nets) {
      record(`${name} train img/s ${precision}`, await trainImagesPerSecond(model, batch, steps));
      record(`${name} HVPs/s ${precision}`, await hvpsPerSecond(model, batch, reps));
    }
  }
  l.addon.configure({ tf32: false });
  // Where the time goes: per-kernel times (the backend synchronizes the device around each kernel).
  for (const [name, model] of nets) {
    record(`${name} train step profile`, await profile(() => trainImagesPerSecond(model, batch, 1)));
    record(`${name} HVP profile`, await profile(() => hvpsPerSecond(model, batch, 1)));
  }
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
