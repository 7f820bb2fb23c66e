/**
 * `npm run bench -- engine`: train-step and HVP throughput of the torch backend's native programs
 * (`torch-native`), of its tfjs kernels (`tfjs-torch`) and of PyTorch itself on the CPU
 * (`pytorch-cpu`, bench/pytorch_engine.py over the same libtorch where Debian's python3-torch is
 * installed), one thread each side, measured alternately in one run, with ratios to PyTorch.
 * Workloads: the 196-30-10 MLP (batch 500), the small CNN (32×32×3, batch 50), the MNIST ConvNet
 * (batch 16), PreAct-ResNet18 and VGG16-BN at width 8 (batch 32); the same data, label-smoothed
 * cross entropy (0.1) and SGD (lr 0.01, momentum 0.9, weight decay 5e-4) on both sides. Each
 * figure is the median over repeats after a warm-up; each column's best of `--rounds` rounds
 * (default 3). `--json` prints one JSON object per line (model, batch, backend,
 * trainImagesPerSecond, hvpsPerSecond); `--js` adds the pure-JS cpu and WASM backends on the
 * first three workloads.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../src/data/dataset';
import { useBackend } from '../src/engine/backend';
import { registerTorchBackend, type TorchOptions } from '../src/engine/torch/backend';
import { nativeFallbacks, releaseDeviceDataset } from '../src/engine/torch/native';
import { hvpAt, type Objective } from '../src/hessian/hvp';
import { buildModel } from '../src/models/model';
import { Trainer } from '../src/train/trainer';
import { timeIt, type Line } from './numerics';
import { PyTorchProcess } from './pytorch-process';

/** CPU and wall milliseconds spent in timed repeats (the `cores` figure). */
const spent = { cpu: 0, wall: 0 };

/** Median seconds of `fn` over `reps` runs, after one warm-up (registration, allocator, first-use compilation). */
async function median(fn: () => Promise<unknown>, reps: number): Promise<number> {
  await fn();
  const cpu = process.cpuUsage(),
    t0 = performance.now();
  const seconds = await timeIt(fn, reps);
  const used = process.cpuUsage(cpu);
  spent.cpu += (used.user + used.system) / 1000;
  spent.wall += performance.now() - t0;
  return seconds;
}

/** The same numbers as bench/pytorch_engine.py's `synthetic` (sin(0.37·i), labels i mod 10). */
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

/**
 * `batch` samples: each training step's mini-batch (the whole synthetic set) and each HVP's data.
 * A repeat times `steps` steps and `hvps` HVPs (tens of milliseconds at least, so a busy neighbour
 * on a shared machine moves a median less).
 */
interface Workload {
  label: string;
  model: string;
  batch: number;
  steps: number;
  hvps: number;
  reps: number;
  /** Also on the pure-JS backends with --js. */
  js: boolean;
}

const WORKLOADS: Workload[] = [
  { label: 'MLP 196-30-10', model: 'mlp:196-30-10', batch: 500, steps: 50, hvps: 40, reps: 7, js: true },
  { label: 'small CNN 32x32x3', model: 'small-cnn', batch: 50, steps: 4, hvps: 2, reps: 5, js: true },
  { label: 'MNIST ConvNet 28x28', model: 'convnet4', batch: 16, steps: 4, hvps: 2, reps: 5, js: true },
  { label: 'PreAct-ResNet18 width 8', model: 'preact-resnet18:8', batch: 32, steps: 2, hvps: 1, reps: 3, js: false },
  { label: 'VGG16-BN width 8', model: 'vgg16-bn:8', batch: 32, steps: 2, hvps: 1, reps: 3, js: false },
];

const SGD = { lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 5e-4 };

interface Figures {
  train: number;
  hvp: number;
  /** Process CPU time over wall time in the timed repeats: 1 for one busy thread. */
  cores?: number;
}

/** images/s of training and HVPs/s of one workload on the current tfjs backend. */
async function measure(w: Workload): Promise<Figures> {
  spent.cpu = spent.wall = 0;
  const model = buildModel(w.model);
  const inputShape = model.inputShape;
  const data = synthetic(inputShape, w.batch);
  const trainer = new Trainer({ model, data, loss: 'lsce', smoothing: 0.1, batchSize: w.batch, sgd: SGD, seed: 1 });
  let state = { step: 0, theta: model.init(1), velocity: null as Float32Array | null };
  const step = async (): Promise<void> => {
    state = await trainer.run(state, state.step + w.steps);
  };
  const train = (w.steps * w.batch) / (await median(step, w.reps));
  const x = tf.tensor(data.x, [w.batch, ...inputShape]);
  const y = tf.tensor1d(data.y, 'int32');
  const obj: Objective = { model, batches: [{ x, y }], loss: 'lsce', smoothing: 0.1 };
  const theta = tf.tensor1d(state.theta),
    v = tf.onesLike(theta);
  const hvp =
    w.hvps /
    (await median(async () => {
      for (let i = 0; i < w.hvps; i++) {
        const h = hvpAt(obj, theta, v);
        await h.data();
        h.dispose();
      }
    }, w.reps));
  tf.dispose([theta, v, x, y]);
  releaseDeviceDataset();
  return { train, hvp, cores: spent.cpu / spent.wall };
}

/** The torch backend as the bench runs it: on the CPU, one thread (PyTorch gets one too). */
export const ONE_THREAD: TorchOptions = {
  device: 'cpu',
  threads: 1,
  deterministic: true,
  cudnnBenchmark: false,
  tf32: false,
};

type Column = 'torch-native' | 'tfjs-torch' | 'pytorch-cpu' | 'cpu' | 'wasm';

export async function benchEngine(line: Line, flags: string[] = []): Promise<void> {
  const json = flags.includes('--json');
  const roundsFlag = flags.find((f) => f.startsWith('--rounds='));
  const rounds = roundsFlag ? Number(roundsFlag.split('=')[1]) : 3;
  const say = json ? (): void => {} : line;
  let torch = false;
  try {
    const info = registerTorchBackend(ONE_THREAD);
    torch = true;
    say('torch backend', `libtorch ${info.version} on ${info.device}, addon ${info.build}`);
  } catch (err) {
    say('torch backend', `absent: ${(err as Error).message}`);
  }
  const pytorch = await PyTorchProcess.start();
  if ('reason' in pytorch) say('PyTorch reference', `absent: ${pytorch.reason}`);
  else say('PyTorch reference', `torch ${pytorch.version} (Python), 1 thread`);
  say('conditions', `${new Date().toISOString()}, best of ${rounds} rounds, columns measured alternately`);
  const results = new Map<string, Map<Column, Figures>>();
  const keep = (w: Workload, c: Column, f: Figures): void => {
    if (!results.has(w.model)) results.set(w.model, new Map());
    const byColumn = results.get(w.model)!;
    const old = byColumn.get(c);
    const cores = Math.max(old?.cores ?? 0, f.cores ?? 0);
    byColumn.set(c, old ? { train: Math.max(old.train, f.train), hvp: Math.max(old.hvp, f.hvp), cores } : f);
  };
  const ours = async (w: Workload, native: boolean): Promise<Figures> => {
    process.env.REPRO_TORCH_NATIVE = native ? 'on' : 'off';
    try {
      // useBackend configures the addon again: with these options, or it would take every core.
      await useBackend('torch', ONE_THREAD);
      return await measure(w);
    } finally {
      delete process.env.REPRO_TORCH_NATIVE;
    }
  };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const w of WORKLOADS) {
        const columns: Array<[Column, () => Promise<Figures>]> = [];
        if (torch) columns.push(['torch-native', () => ours(w, true)], ['tfjs-torch', () => ours(w, false)]);
        if (!('reason' in pytorch)) {
          const p = pytorch;
          columns.push([
            'pytorch-cpu',
            async () => {
              const r = await p.measure({ ...w, threads: 1 });
              return { train: r.trainImagesPerSecond, hvp: r.hvpsPerSecond, cores: r.cores };
            },
          ]);
        }
        if (flags.includes('--js') && w.js && round === 0)
          for (const b of ['cpu', 'wasm'] as const)
            columns.push([
              b,
              async () => {
                await useBackend(b);
                return measure(w);
              },
            ]);
        // Alternate the order between rounds, so no column always runs on a warmer (or busier) machine.
        if (round % 2 === 1) columns.reverse();
        for (const [c, run] of columns) keep(w, c, await run());
      }
    }
  } finally {
    if (!('reason' in pytorch)) pytorch.stop();
  }
  for (const w of WORKLOADS) {
    const byColumn = results.get(w.model)!;
    if (json) {
      for (const [backend, f] of byColumn)
        process.stdout.write(
          JSON.stringify({
            model: w.model,
            batch: w.batch,
            backend,
            trainImagesPerSecond: f.train,
            hvpsPerSecond: f.hvp,
          }) + '\n',
        );
      continue;
    }
    const ref = byColumn.get('pytorch-cpu');
    for (const [what, pick] of [
      [`train images/s (batch ${w.batch})`, (f: Figures) => f.train],
      [`HVPs/s (${w.batch} samples)`, (f: Figures) => f.hvp],
    ] as const) {
      const cells = [...byColumn].map(([c, f]) => `${c} ${pick(f).toPrecision(3)}`);
      if (ref)
        for (const c of ['torch-native', 'tfjs-torch'] as const) {
          const f = byColumn.get(c);
          if (f) cells.push(`${c}/pytorch ${(pick(f) / pick(ref)).toFixed(2)}`);
        }
      line(`${w.label} ${what}`, cells.join('  '));
    }
  }
  const busiest = [...results.values()].flatMap((m) => [...m].map(([c, f]) => [c, f.cores ?? 0] as const));
  const cores = new Map<string, number>();
  for (const [c, n] of busiest) cores.set(c, Math.max(cores.get(c) ?? 0, n));
  say(
    'cores used (CPU time / wall time, most of any workload)',
    [...cores].map(([c, n]) => `${c} ${n.toFixed(2)}`).join('  '),
  );
  const fell = Object.entries(nativeFallbacks());
  say('native fallbacks', fell.length === 0 ? 'none' : fell.map(([k, n]) => `${k} (${n}x)`).join('; '));
}
