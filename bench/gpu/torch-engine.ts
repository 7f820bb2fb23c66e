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
  const theta = model.init(2), v = Float32Array.from(gaussian(model.paramCount, 9, 0));
  const run = async (backend: 'cpu' | 'torch'): Promise<Float32Array> => {
    await useBackend(backend);
    const x = tf.tensor(xs, [n, ...model.inputShape]), y = tf.tensor1d(labels, 'int32');
    const th = tf.tensor1d(theta), vt = tf.tensor1d(v);
    const h = hvpAt({ model, batches: [{ x, y }], loss: 'lsce', smoothing: 0.1 }, th, vt);
    const out = Float32Array.from(await h.data());
    tf.dispose([x, y, h, th, vt]);
    return out;
  };
  const gpu = await run('torch'), cpu = await run('cpu');
  await useBackend('torch');
  let num = 0, den = 0;
  cpu.forEach((c, i) => { num += (gpu[i]! - c) ** 2; den += c * c; });
  return Math.sqrt(num / den);
}

async function main(): Promise<void> {
  const dry = process.env.REPRO_GPU_BENCH_DRY === '1';
  const info = registerTorchBackend({ device: dry ? 'cpu' : 'cuda', threads: 0, deterministic: false, cudnnBenchmark: false, tf32: false });
  await tf.setBackend('torch');
  const l = loadTorchAddon();
  if (!('addon' in l)) throw new Error(l.reason);
  const out: Record<string, unknown> = { torch: info };
  const batch = dry ? 4 : 500, steps = dry ? 1 : 10, reps = dry ? 1 : 3;
  const agreements: Record<string, number> = {};
  for (const [spec, n] of dry ? [['small-cnn', 4]] as const : [['small-cnn', 4], ['vgg16-bn:4', 8], ['preact-resnet18:4', 2], ['densenet-bc:2', 2]] as const) {
    agreements[spec] = await agreement(spec, n);
  }
  out.hvpTorchVsCpuRelativeDifference = agreements;
  const nets: Array<[string, Model]> = [['vgg-like', new Model('vgg-like', [32, 32, 3], 10, vggLike())], ['preact-resnet18', buildModel('preact-resnet18')]];
  for (const tf32 of [false, true]) {
    l.addon.configure({ tf32 });
    const precision = tf32 ? 'tf32' : 'fp32';
    for (const [name, model] of nets) {
      out[`${name} train img/s ${precision}`] = await trainImagesPerSecond(model, batch, steps);
      out[`${name} HVPs/s ${precision}`] = await hvpsPerSecond(model, batch, reps);
      process.stderr.write(`${name} ${precision} done\n`);
    }
  }
  out.addonTensorsAtEnd = l.addon.stats();
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

void main();
