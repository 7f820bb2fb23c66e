/**
 * The torch backend's native programs (src/engine/torch/native.ts) against its tfjs kernels, the
 * reference: losses, gradients and HVPs of every model agree to 1e-5; the MLP's hand-written
 * kernels agree with libtorch's autograd; the float64 reference holds natively; native training
 * replays are bit-identical straight or resumed (the trainer's replay tests, natively) and follow
 * the tfjs path's trajectory to float32 rounding; the device's batch order and augmentation are
 * the host's bit for bit; what the programs cannot express falls back with a reason, or is an
 * error when they were asked for; nothing leaks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { decodeSafetensors, encodeSafetensors } from '../../src/checkpoint/safetensors';
import type { Dataset } from '../../src/data/dataset';
import { loadMnist } from '../../src/data/mnist';
import { augment, augmentParams, flatten, permutation, resize, subset } from '../../src/data/preprocess';
import { useBackend } from '../../src/engine/backend';
import { loadTorchAddon, oneDnnIsaGuard, type TorchBackend } from '../../src/engine/torch/backend';
import {
  hostKernels,
  NativeProgram,
  nativeFallbacks,
  nativeProgram,
  onNativeFallback,
  releaseDeviceDataset,
} from '../../src/engine/torch/native';
import { exactSpectrumOf } from '../../src/hessian/full-hessian';
import { gradientAt, hvpAt, lossAndGradientInChunks, lossAt, type Objective } from '../../src/hessian/hvp';
import { evaluateLoss, projectToMinimum } from '../../src/landscape/landscape';
import { gaussian } from '../../src/hessian/probes';
import { xtrace } from '../../src/hessian/trace-estimators';
import { jsKernels } from '../../src/linalg/dense-kernels';
import { symmetricEigenvalues } from '../../src/linalg/symmetric-eigen';
import type { LossName } from '../../src/losses/losses';
import { buildModel, type Model } from '../../src/models/model';
import { recordProgram } from '../../src/models/program';
import { sgdStep } from '../../src/optim/sgd';
import { CounterRng, streamId } from '../../src/rng/philox';
import { DivergenceError } from '../../src/train/divergence';
import { stateToTensors, tensorsToState } from '../../src/train/state-tensors';
import { Trainer, type TrainConfig, type TrainState } from '../../src/train/trainer';
import { mlpReference } from '../reference/mlp-float64';
import { torchRequired } from '../torch-availability';

const skip = torchRequired();

type Mode = 'off' | 'auto' | 'on';

/** Runs `f` on the torch backend with native programs `mode` (REPRO_TORCH_NATIVE). */
async function withNative<T>(mode: Mode, f: () => T | Promise<T>): Promise<T> {
  const before = process.env.REPRO_TORCH_NATIVE;
  process.env.REPRO_TORCH_NATIVE = mode;
  try {
    await useBackend('torch');
    return await f();
  } finally {
    if (before === undefined) delete process.env.REPRO_TORCH_NATIVE;
    else process.env.REPRO_TORCH_NATIVE = before;
  }
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

function bytes(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function problem(model: Model, n: number, seed: number): { xs: Float32Array; labels: Int32Array } {
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const rng = new CounterRng(seed, 'test/data');
  return {
    xs: Float32Array.from({ length: n * size }, (_, i) => rng.normal(0, i)),
    labels: Int32Array.from({ length: n }, (_, i) => Math.floor(rng.uniform(1, i) * model.numClasses)),
  };
}

/** The objective over `n` samples in `chunks` unequal chunks (chunks are weighted by size). */
function objective(
  model: Model,
  data: { xs: Float32Array; labels: Int32Array },
  chunks: number,
  loss: LossName,
  smoothTwin: boolean,
): Objective {
  const n = data.labels.length,
    size = model.inputShape.reduce((a, b) => a * b, 1);
  const cuts = chunks === 1 ? [0, n] : [0, Math.ceil((2 * n) / 3), n];
  return {
    model,
    batches: cuts.slice(1).map((end, i) => ({
      x: tf.tensor(data.xs.subarray(cuts[i]! * size, end * size), [end - cuts[i]!, ...model.inputShape]),
      y: tf.tensor1d(data.labels.subarray(cuts[i]!, end), 'int32'),
    })),
    loss,
    smoothing: loss === 'lsce' ? 0.1 : 0,
    forward: { smoothTwin },
  };
}

function disposeObjective(obj: Objective): void {
  for (const b of obj.batches) tf.dispose([b.x, b.y]);
}

/** Loss, gradient and HVP of `obj` at (theta, v) on the current path. */
function evaluate(obj: Objective, theta: Float32Array, v: Float64Array) {
  const th = tf.tensor1d(theta),
    vt = tf.tensor1d(Float32Array.from(v));
  try {
    const g = gradientAt(obj, th),
      h = hvpAt(obj, th, vt);
    const out = { loss: lossAt(obj, th), grad: g.dataSync() as Float32Array, hv: h.dataSync() as Float32Array };
    tf.dispose([g, h]);
    return out;
  } finally {
    tf.dispose([th, vt]);
  }
}

// The reduced widths of hvp.test.ts and torch-models.test.ts, chunked in two where the batch allows.
for (const [spec, n] of [
  ['mlp:196-30-10', 32],
  ['small-cnn', 4],
  ['convnet4', 2],
  ['vgg16-bn:4', 8],
  ['preact-resnet18:4', 2],
  ['densenet-bc:2', 2],
] as const) {
  test(
    `${spec}: native loss, gradient and HVP equal the tfjs kernels' to 1e-5 (relu and smooth twin)`,
    { skip },
    async () => {
      const model = buildModel(spec);
      const data = problem(model, n, 5);
      const theta = model.init(2);
      const v = gaussian(model.paramCount, 9, 0);
      for (const smooth of [false, true]) {
        const obj = objective(model, data, n >= 4 ? 2 : 1, 'lsce', smooth);
        try {
          const want = await withNative('off', () => evaluate(obj, theta, v));
          const got = await withNative('on', () => evaluate(obj, theta, v));
          const what = smooth ? 'smooth twin' : 'relu';
          assert.ok(
            Math.abs(got.loss - want.loss) <= 1e-5 * Math.abs(want.loss),
            `${what} loss ${got.loss} vs ${want.loss}`,
          );
          assert.ok(relErr(got.grad, want.grad) < 1e-5, `${what} gradient: ${relErr(got.grad, want.grad)}`);
          assert.ok(relErr(got.hv, want.hv) < 1e-5, `${what} HVP: ${relErr(got.hv, want.hv)}`);
        } finally {
          disposeObjective(obj);
        }
      }
    },
  );
}

test('MSE loss: native equals the tfjs kernels on an MLP and a CNN', { skip }, async () => {
  for (const [spec, n] of [
    ['mlp:49-20-10', 16],
    ['small-cnn', 4],
  ] as const) {
    const model = buildModel(spec);
    const obj = objective(model, problem(model, n, 8), 2, 'mse', false);
    const theta = model.init(3),
      v = gaussian(model.paramCount, 4, 0);
    try {
      const want = await withNative('off', () => evaluate(obj, theta, v));
      const got = await withNative('on', () => evaluate(obj, theta, v));
      assert.ok(Math.abs(got.loss - want.loss) <= 1e-5 * want.loss, `${spec} loss`);
      assert.ok(relErr(got.grad, want.grad) < 1e-5, `${spec} gradient ${relErr(got.grad, want.grad)}`);
      assert.ok(relErr(got.hv, want.hv) < 1e-5, `${spec} HVP ${relErr(got.hv, want.hv)}`);
    } finally {
      disposeObjective(obj);
    }
  }
});

/** The MLP's program compiled for libtorch's autograd instead of the hand-written kernels. */
function autogradProgram(model: Model, smooth: boolean): NativeProgram {
  const backend = tf.engine().backend as unknown as TorchBackend;
  return new NativeProgram(
    model,
    backend.addon.programCompile({ ...recordProgram(model, smooth), autograd: true }),
    backend,
  );
}

test("the MLP's hand-written kernels (backprop, R-operator) equal libtorch's autograd", { skip }, async () => {
  const model = buildModel('mlp:49-24-16-10');
  const data = problem(model, 40, 6);
  const v = gaussian(model.paramCount, 3, 0);
  await withNative('on', () => {
    for (const smooth of [false, true])
      for (const loss of ['lsce', 'mse'] as const) {
        const obj = objective(model, data, 2, loss, smooth);
        const theta = tf.tensor1d(model.init(4)),
          vt = tf.tensor1d(Float32Array.from(v));
        const hand = nativeProgram(model, obj.forward)!,
          auto = autogradProgram(model, smooth);
        const w = obj.batches.map((b) => b.y.shape[0] / 40);
        const [gh, ga] = [hand, auto].map((p) => p.gradient(theta, obj.batches, w, loss, obj.smoothing));
        const [hh, ha] = [hand, auto].map((p) => p.hvp(theta, vt, obj.batches, w, loss, obj.smoothing));
        const what = `${smooth ? 'softplus' : 'relu'} ${loss}`;
        assert.ok(relErr(gh!.grad.dataSync(), ga!.grad.dataSync()) < 1e-6, `${what} gradient`);
        assert.deepEqual(Array.from(gh!.losses.dataSync()), Array.from(ga!.losses.dataSync()), `${what} losses`);
        assert.ok(
          relErr(hh!.dataSync(), ha!.dataSync()) < 1e-6,
          `${what} HVP ${relErr(hh!.dataSync(), ha!.dataSync())}`,
        );
        tf.dispose([theta, vt, gh!.grad, gh!.losses, ga!.grad, ga!.losses, hh!, ha!]);
        auto.addon.programFree(auto.id);
        disposeObjective(obj);
      }
  });
});

test('native MLP loss, gradient and HVP equal the float64 R-operator reference', { skip }, async () => {
  const model = buildModel('mlp:20-12-5');
  const { xs, labels } = problem(model, 64, 3);
  const theta = model.init(1);
  const v = gaussian(model.paramCount, 7, 0);
  for (const activation of ['relu', 'softplus'] as const) {
    const ref = mlpReference(
      { d: 20, h: 12, k: 5, x: Float64Array.from(xs), labels, smoothing: 0.1, activation },
      theta,
      v,
    );
    const obj = objective(model, { xs, labels }, 1, 'lsce', activation === 'softplus');
    const got = await withNative('on', () => evaluate(obj, theta, v));
    const viaAutograd = await withNative('on', () => {
      const p = autogradProgram(model, activation === 'softplus');
      const th = tf.tensor1d(theta),
        vt = tf.tensor1d(Float32Array.from(v));
      const h = p.hvp(th, vt, obj.batches, [1], 'lsce', 0.1);
      const out = h.dataSync();
      tf.dispose([th, vt, h]);
      p.addon.programFree(p.id);
      return out;
    });
    disposeObjective(obj);
    assert.ok(Math.abs(got.loss - ref.loss) < 1e-5 * ref.loss, `${activation} loss`);
    assert.ok(relErr(got.grad, ref.grad) < 1e-5, `${activation} gradient ${relErr(got.grad, ref.grad)}`);
    assert.ok(relErr(got.hv, ref.hv) < 1e-4, `${activation} HVP ${relErr(got.hv, ref.hv)}`);
    assert.ok(relErr(viaAutograd, ref.hv) < 1e-4, `${activation} HVP by autograd ${relErr(viaAutograd, ref.hv)}`);
  }
});

test(
  "native: the gradient pass's loss is lossAt's (batch norm over one chunk too): fused projections stop alike",
  { skip },
  async () => {
    const sgd = { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 5e-4 };
    /** A projection whose stopping loss comes from the gradient pass ends where one with a loss pass does. */
    const stopsAlike = async (label: string, obj: Objective, start: Float32Array, target: number, maxSteps: number) => {
      const run = (fusedLoss: boolean) =>
        withNative('on', () =>
          projectToMinimum(obj, { theta: start, velocity: null }, { sgd, target, maxSteps, fusedLoss }),
        );
      const separate = await run(false),
        fused = await run(true);
      assert.ok(separate.reached && separate.steps > 3, `${label}: reached in ${separate.steps} steps`);
      assert.equal(fused.steps, separate.steps, label);
      assert.equal(fused.loss, separate.loss, label);
      assert.deepEqual(fused.theta, separate.theta, label);
    };
    for (const spec of ['mlp:20-12-5', 'small-cnn']) {
      const model = buildModel(spec);
      const obj = objective(model, problem(model, 48, 5), 2, 'lsce', false);
      const start = model.init(3);
      const initial = await withNative('on', () => evaluateLoss(obj, start));
      await stopsAlike(spec, obj, start, initial * 0.5, 300);
      disposeObjective(obj);
    }
    // Batch norm over one chunk: evaluateLoss is the batch-mode loss, natively, as the gradient's.
    const model = buildModel('densenet-bc:4:1-1-1-1@8x8x1');
    const obj = objective(model, problem(model, 32, 6), 1, 'lsce', false);
    const start = model.init(3);
    const path: Float32Array[] = [start];
    await withNative('on', () =>
      projectToMinimum(
        obj,
        { theta: start, velocity: null },
        { sgd, target: -1, maxSteps: 20, checkpointEvery: 1, onCheckpoint: async (s) => void path.push(s.theta) },
      ),
    );
    for (const [i, theta] of path.entries()) {
      const [exact, pass] = await withNative('on', async () => {
        const flat = tf.tensor1d(theta);
        const r = await lossAndGradientInChunks(obj, flat);
        tf.dispose([flat, r.grad]);
        return [await evaluateLoss(obj, theta), r.loss];
      });
      assert.equal(exact, pass, `batch norm, step ${i}`);
    }
    const initial = await withNative('on', () => evaluateLoss(obj, start));
    await stopsAlike('batch norm', obj, start, initial * 0.6, 400);
    disposeObjective(obj);
  },
);

test('the float64 host kernels on LAPACK/BLAS equal the JavaScript ones, and XTrace with them', { skip }, async () => {
  await useBackend('torch');
  const native = hostKernels();
  assert.ok(native, 'the addon has gram64 and qr64');
  const k = 6,
    n = 5000;
  const y = gaussian(k * n, 11, 0).map((v, i) => v + (i % n === 0 ? 5 : 0));
  const x = gaussian(3 * n, 12, 0);
  const close = (a: Float64Array, b: Float64Array, tol: number, what: string): void =>
    a.forEach((v, i) =>
      assert.ok(Math.abs(v - b[i]!) <= tol * (1 + Math.abs(b[i]!)), `${what}[${i}]: ${v} vs ${b[i]}`),
    );
  close(native.gram(x, 3, y, k), jsKernels.gram(x, 3, y, k), 1e-12, 'gram');
  const a = native.qr(y, k),
    b = jsKernels.qr(y, k);
  close(a.r, b.r, 1e-10, 'R');
  close(a.q, b.q, 1e-10, 'Q');
  // XTrace on an explicit symmetric operator: the same estimate with either set of kernels.
  const op = {
    dim: n,
    apply: async (v: Float64Array) =>
      Float64Array.from(
        v,
        (t, i) => t * (1 + (i % 13)) + (i > 0 ? 0.5 * v[i - 1]! : 0) + (i < n - 1 ? 0.5 * v[i + 1]! : 0),
      ),
  };
  const viaJs = await xtrace(op, { matvecs: 20, seed: 3 }),
    viaNative = await xtrace({ ...op, kernels: native }, { matvecs: 20, seed: 3 });
  assert.ok(
    Math.abs(viaNative.value - viaJs.value) < 1e-9 * Math.abs(viaJs.value),
    `${viaNative.value} vs ${viaJs.value}`,
  );
  assert.ok(Math.abs(viaNative.stderr - viaJs.stderr) < 1e-6 * viaJs.stderr);
  let exact = 0;
  for (let i = 0; i < n; i++) exact += 1 + (i % 13);
  assert.ok(Math.abs(viaJs.value - exact) < 4 * viaJs.stderr + 1e-9 * exact, `${viaJs.value} vs the exact ${exact}`);
});

function synthetic(model: Model, shape: number[], n: number): Dataset {
  const s = shape.reduce((a, b) => a * b, 1);
  return {
    name: 'random',
    shape,
    classes: model.numClasses,
    x: Float32Array.from({ length: n * s }, (_, i) => Math.sin(i * 0.37)),
    y: Int32Array.from({ length: n }, (_, i) => i % model.numClasses),
  };
}

function trainConfig(spec: string, shape: number[]): TrainConfig {
  const model = buildModel(spec);
  return {
    model,
    data: synthetic(model, shape, 16),
    loss: 'lsce',
    smoothing: 0.1,
    batchSize: 8,
    augment: shape[2] === 3,
    sgd: { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 5e-4 },
    seed: 3,
  };
}

const copy = (s: TrainState): TrainState => ({
  step: s.step,
  theta: Float32Array.from(s.theta),
  velocity: s.velocity && Float32Array.from(s.velocity),
});

test(
  'native training replays are bit-identical, straight through or resumed (augmented, batch norm, MLP)',
  { skip },
  async () => {
    await withNative('on', async () => {
      for (const [spec, shape] of [
        ['small-cnn', [32, 32, 3]],
        ['vgg16-bn:2', [32, 32, 3]],
        ['mlp:49-12-10', [49]],
      ] as const) {
        const cfg = trainConfig(spec, [...shape]);
        const init: TrainState = { step: 0, theta: cfg.model.init(1), velocity: null };
        const a = await new Trainer(cfg).run(init, 6);
        const b = await new Trainer(cfg).run(init, 6);
        const half = await new Trainer(cfg).run(init, 3);
        const resumed = await new Trainer(trainConfig(spec, [...shape])).run(copy(half), 6);
        assert.ok(
          a.theta.some((x, i) => x !== init.theta[i]),
          `${spec}: training moved θ`,
        );
        assert.deepEqual(bytes(b.theta), bytes(a.theta), `${spec}: replay`);
        assert.deepEqual(bytes(resumed.theta), bytes(a.theta), `${spec}: resumed`);
        assert.deepEqual(bytes(resumed.velocity!), bytes(a.velocity!), `${spec}: resumed velocity`);
      }
    });
  },
);

const mnist500 = flatten(resize(subset(loadMnist('train'), 500, 1), 14, 14));

function mnistConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    model: buildModel('mlp:196-30-10'),
    data: mnist500,
    loss: 'lsce',
    smoothing: 0.1,
    batchSize: 50,
    sgd: { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 5e-4 },
    seed: 3,
    ...overrides,
  };
}

test(
  'natively, replaying steps [12, 30) from a checkpoint at 12 is bit-identical (train.test.ts natively)',
  { skip },
  async () => {
    await withNative('on', async () => {
      const trainer = new Trainer(mnistConfig());
      const start = { step: 0, theta: trainer.cfg.model.init(1), velocity: null };
      const straight = await trainer.run(start, 30);
      const half = await trainer.run(start, 12);
      const resumed = await new Trainer(mnistConfig()).run(copy(half), 30);
      assert.equal(resumed.step, 30);
      assert.deepEqual(bytes(resumed.theta), bytes(straight.theta));
      assert.deepEqual(bytes(resumed.velocity!), bytes(straight.velocity!));
      assert.notDeepEqual(straight.theta, start.theta);
    });
  },
);

test(
  'native training follows the tfjs kernels: same batches, augmentation and SGD, float32 rounding apart',
  { skip },
  async () => {
    // Rounding compounds over steps: 30 MLP steps stay within 1e-4, six small-CNN steps within
    // 1e-5. A batch-normalized net at width 2 amplifies any float32 difference within a few steps
    // (the tfjs kernels on the cpu and torch backends part by 3e-2 after four augmented steps of
    // vgg16-bn:2), so it is held to its first step, gradient, augmentation and update alike.
    for (const [cfg, steps, tolerance] of [
      [mnistConfig(), 30, 1e-4],
      [trainConfig('small-cnn', [32, 32, 3]), 6, 1e-5],
      [trainConfig('vgg16-bn:2', [32, 32, 3]), 1, 1e-5],
    ] as const) {
      const start = { step: 0, theta: cfg.model.init(1), velocity: null };
      const losses = (mode: Mode) =>
        withNative(mode, async () => {
          const seen: number[] = [];
          const end = await new Trainer(cfg).run(start, steps, { onStep: (_s, l) => seen.push(l) });
          return { end, seen };
        });
      const tfjs = await losses('off'),
        native = await losses('on');
      const moved = Float32Array.from(tfjs.end.theta, (t, i) => t - start.theta[i]!);
      const movedNative = Float32Array.from(native.end.theta, (t, i) => t - start.theta[i]!);
      // The update itself (θ_T − θ_0), not θ_T, whose size would hide it.
      const err = relErr(movedNative, moved);
      assert.ok(err < tolerance, `${cfg.model.name}: update ${err}`);
      assert.equal(native.seen.length, steps);
      assert.ok(relErr(native.seen, tfjs.seen) < 1e-5, `${cfg.model.name}: losses ${relErr(native.seen, tfjs.seen)}`);
    }
  },
);

test(
  'designed noise and onGradient run natively, and a noisy run resumed from a checkpoint equals an undisturbed one',
  { skip },
  async () => {
    const cfg = mnistConfig({
      sgd: { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0 },
      noise: { spec: { kind: 'sgd-like', strength: 0.01 }, k: 2, lanczosSteps: 10, refreshEvery: 5 },
    });
    const start = { step: 0, theta: cfg.model.init(4), velocity: null };
    await withNative('on', async () => {
      const straight = await new Trainer(cfg).run(start, 14);
      const half = await new Trainer(cfg).run(start, 12);
      assert.equal(half.noiseAnchor?.step, 10);
      const saved = tensorsToState(decodeSafetensors(encodeSafetensors(stateToTensors(half))).tensors);
      const resumed = await new Trainer(cfg).run(saved, 14);
      assert.deepEqual(bytes(resumed.theta), bytes(straight.theta));
      const plain = await new Trainer({ ...cfg, noise: undefined }).run(start, 14);
      assert.notDeepEqual(straight.theta, plain.theta, 'the noise did something');
    });
    // onGradient sees θ, the mini-batch gradient and the velocity before each update, as on tfjs kernels.
    const observe = (mode: Mode) =>
      withNative(mode, async () => {
        const seen: Array<{ step: number; grad: Float32Array; v: Float32Array | null }> = [];
        await new Trainer(mnistConfig()).run({ step: 0, theta: cfg.model.init(4), velocity: null }, 3, {
          onGradient: (step, _theta, grad, v) =>
            seen.push({ step, grad: Float32Array.from(grad), v: v && Float32Array.from(v) }),
        });
        return seen;
      });
    const [tfjs, native] = [await observe('off'), await observe('on')];
    assert.deepEqual(
      native.map((s) => [s.step, s.v === null]),
      tfjs.map((s) => [s.step, s.v === null]),
    );
    native.forEach((s, i) => assert.ok(relErr(s.grad, tfjs[i]!.grad) < 1e-5, `gradient at step ${s.step}`));
  },
);

test(
  "the native SGD step is src/optim/sgd.ts's, bit for bit (as the tfjs kernels on torch compute it)",
  { skip },
  async () => {
    await useBackend('torch');
    const l = loadTorchAddon();
    assert.ok('addon' in l);
    const addon = l.addon;
    const n = 50_000;
    const rng = new CounterRng(4, 'test/sgd');
    const draw = (stream: number) => Float32Array.from({ length: n }, (_, i) => rng.normal(stream, i));
    const [theta, grad, velocity] = [draw(0), draw(1), draw(2)];
    for (const cfg of [
      { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 5e-4 },
      { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: true },
      { lr: 0.3, momentum: 0, dampening: 0, weightDecay: 1e-3 },
    ])
      for (const first of [true, false]) {
        if (first && cfg.momentum === 0) continue;
        const want = sgdStep(tf.tensor1d(theta), tf.tensor1d(grad), first ? null : tf.tensor1d(velocity), cfg);
        const th = addon.upload(theta, 0, [n]),
          g = addon.upload(grad, 0, [n]),
          v = addon.upload(velocity, 0, [n]);
        const sgd = Float64Array.of(cfg.lr, cfg.momentum, cfg.dampening, cfg.weightDecay, cfg.nesterov ? 1 : 0);
        addon.sgdUpdate(th, g, cfg.momentum ? v : -1, !first, sgd);
        const what = `${JSON.stringify(cfg)}${first ? ', first step' : ''}`;
        assert.deepEqual(bytes(addon.download(th) as Float32Array), bytes(want.theta.dataSync() as Float32Array), what);
        if (cfg.momentum)
          assert.deepEqual(
            bytes(addon.download(v) as Float32Array),
            bytes(want.velocity!.dataSync() as Float32Array),
            what,
          );
        [th, g, v].forEach((h) => addon.free(h));
        tf.dispose([want.theta, want.velocity ?? []]);
      }
  },
);

test("the device's epoch order and augmentation are the host's, bit for bit", { skip }, async () => {
  const l = loadTorchAddon();
  assert.ok('addon' in l);
  const addon = l.addon;
  for (const [n, seed, step] of [
    [1, 0, 0],
    [2, 3, 7],
    [500, 3, 0],
    [50_000, 2 ** 40 + 5, 2 ** 33 + 1],
  ] as const) {
    const h = addon.permutation(
      n,
      (seed % 2 ** 32) >>> 0,
      Math.floor(seed / 2 ** 32) >>> 0,
      streamId('data/order'),
      step,
    );
    const got = addon.download(h) as Int32Array;
    addon.free(h);
    assert.deepEqual(got, permutation(n, seed, 'data/order', step), `permutation(${n}, ${seed}, ${step})`);
  }
  const shape = [32, 32, 3],
    n = 24;
  const rng = new CounterRng(11, 'test/images');
  const x = Float32Array.from({ length: n * 32 * 32 * 3 }, (_, i) => rng.normal(0, i));
  for (const step of [0, 1, 99]) {
    const xh = addon.upload(x, 0, [n, ...shape]),
      ph = addon.upload(augmentParams(n, 5, step), 1, [n, 3]);
    const out = addon.augmentImages(xh, ph, 4);
    const got = addon.download(out) as Float32Array;
    [xh, ph, out].forEach((h) => addon.free(h));
    assert.deepEqual(bytes(got), bytes(augment(x, n, shape, 5, step)), `augmentation of step ${step}`);
  }
});

test(
  'what native programs cannot express runs on tfjs kernels with a logged reason, or is an error under `on`',
  { skip },
  async () => {
    const model = buildModel('vgg16-bn:2');
    const data = problem(model, 4, 2);
    const obj = objective(model, data, 1, 'lsce', false);
    const stats = new Map(
      model.batchNorms.map((b) => [
        b.name,
        { mean: tf.zeros([b.channels]) as tf.Tensor1D, variance: tf.ones([b.channels]) as tf.Tensor1D },
      ]),
    );
    const fixed: Objective = { ...obj, forward: { batchNorm: { mode: 'fixed', stats } } };
    const logged: string[] = [];
    onNativeFallback((m) => logged.push(m));
    try {
      const theta = model.init(1);
      const off = await withNative('off', () => lossAt(fixed, tf.tensor1d(theta)));
      const auto = await withNative('auto', () => [
        lossAt(fixed, tf.tensor1d(theta)),
        lossAt(fixed, tf.tensor1d(theta)),
      ]);
      assert.deepEqual(auto, [off, off], 'the fallback is the tfjs path itself');
      assert.equal(logged.length, 1, 'logged once per model and reason');
      assert.match(
        logged[0]!,
        /vgg16-bn:2: batch norm with fixed statistics runs on tfjs kernels; running on tfjs kernels instead/,
      );
      assert.ok(Object.keys(nativeFallbacks()).some((k) => k.startsWith('vgg16-bn:2: batch norm with fixed')));
      await assert.rejects(
        withNative('on', () => lossAt(fixed, tf.tensor1d(theta))),
        /torch native programs: vgg16-bn:2: batch norm with fixed statistics .*torch\.native is 'on'/,
      );
      // Off the torch backend there is nothing to fall back from: the current backend computes.
      process.env.REPRO_TORCH_NATIVE = 'on';
      await useBackend('cpu');
      assert.equal(nativeProgram(model), null);
    } finally {
      delete process.env.REPRO_TORCH_NATIVE;
      onNativeFallback((m) => console.warn(m));
      disposeObjective(obj);
      for (const m of stats.values()) tf.dispose([m.mean, m.variance]);
    }
  },
);

test(
  'losses are read every `lossEvery` steps: onStep sees each step once, in order; divergence names its step',
  { skip },
  async () => {
    for (const mode of ['off', 'on'] as const) {
      await withNative(mode, async () => {
        const steps: number[] = [];
        await new Trainer(mnistConfig()).run(
          { step: 0, theta: buildModel('mlp:196-30-10').init(1), velocity: null },
          23,
          {
            lossEvery: 5,
            yieldEvery: 2,
            onStep: (s) => steps.push(s),
          },
        );
        assert.deepEqual(
          steps,
          Array.from({ length: 23 }, (_, i) => i + 1),
          mode,
        );
        // A non-finite weight makes step 7's loss NaN: the read after step 10 names step 7.
        const trainer = new Trainer(mnistConfig());
        const at7 = await trainer.run({ step: 0, theta: trainer.cfg.model.init(1), velocity: null }, 7);
        at7.theta[0] = Number.POSITIVE_INFINITY;
        await assert.rejects(
          trainer.run(at7, 40, { lossEvery: 10 }),
          (err: Error) => err instanceof DivergenceError && /^training loss became NaN at step 7;/.test(err.message),
        );
      });
    }
  },
);

test(
  "tf.memory() and the addon's tensor count stay flat over native steps, losses, gradients and HVPs",
  { skip },
  async () => {
    await withNative('on', async () => {
      const l = loadTorchAddon();
      assert.ok('addon' in l);
      const cfg = trainConfig('small-cnn', [32, 32, 3]);
      const trainer = new Trainer(cfg);
      let state = await trainer.run({ step: 0, theta: cfg.model.init(1), velocity: null }, 2);
      const model = cfg.model;
      const obj = objective(model, problem(model, 6, 1), 2, 'lsce', false);
      const th = tf.tensor1d(state.theta),
        v = tf.onesLike(th);
      const round = (): void => {
        lossAt(obj, th);
        gradientAt(obj, th).dispose();
        hvpAt(obj, th, v).dispose();
      };
      round();
      const before = { tfjs: tf.memory().numTensors, addon: l.addon.stats() };
      state = await trainer.run(state, 200);
      for (let i = 0; i < 20; i++) round();
      assert.equal(state.step, 200);
      assert.equal(tf.memory().numTensors, before.tfjs, 'tfjs tensors');
      assert.deepEqual(l.addon.stats(), before.addon, 'addon tensors and bytes');
      tf.dispose([th, v]);
      disposeObjective(obj);
      releaseDeviceDataset();
    });
  },
);

test(
  'the float64 spectrum (programSpectrum) equals the eigenvalues of the float64 reference Hessian, ' +
    'on the hand-written MLP kernels and on autograd, and resolves what float32 products blur',
  { skip },
  async () => {
    const model = buildModel('mlp:20-12-5');
    const n = model.paramCount;
    const data = problem(model, 64, 5);
    const theta = model.init(2);
    const ref = { d: 20, h: 12, k: 5, x: Float64Array.from(data.xs), labels: data.labels, smoothing: 0.1 };
    const h = new Float64Array(n * n);
    const e = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      e[j] = 1;
      const col = mlpReference({ ...ref, activation: 'relu' }, theta, e).hv;
      e[j] = 0;
      for (let i = 0; i < n; i++) h[i * n + j] = col[i]!;
    }
    const expected = symmetricEigenvalues(h, n);
    const scale = Math.max(Math.abs(expected[0]!), Math.abs(expected[n - 1]!));
    const obj = objective(model, data, 2, 'lsce', false);
    const viaKernels = await withNative('off', () => exactSpectrumOf(obj, theta));
    const viaAutograd = await withNative('off', async () => {
      const p = autogradProgram(model, false);
      const th = tf.tensor1d(theta);
      const total = data.labels.length;
      const out = await p.spectrum(
        th,
        obj.batches,
        obj.batches.map((b) => b.y.shape[0] / total),
        'lsce',
        0.1,
      );
      th.dispose();
      p.addon.programFree(p.id);
      return out;
    });
    assert.equal(
      viaKernels.precision,
      'float64',
      'the torch backend forms the Hessian in float64 whatever torch.native',
    );
    for (const got of [viaKernels, viaAutograd]) {
      assert.equal(got.eigenvalues.length, n);
      const worst = Math.max(...expected.map((x, i) => Math.abs(x - got.eigenvalues[i]!)));
      assert.ok(worst < 1e-12 * scale, `eigenvalues off by ${worst} (scale ${scale})`);
      let trace = 0;
      for (let i = 0; i < n; i++) trace += h[i * n + i]!;
      assert.ok(Math.abs(got.trace - trace) < 1e-12 * Math.abs(trace) + 1e-15);
      assert.ok(Math.abs(got.loss - mlpReference({ ...ref, activation: 'relu' }, theta).loss) < 1e-12);
    }
    // Float32 products (the other backends' path) against the same reference: their error is
    // what float64 removes; it must be visible at all for the test to say anything.
    const blurred = await withNative('off', async () => {
      await useBackend('cpu');
      try {
        return await exactSpectrumOf(obj, theta);
      } finally {
        await useBackend('torch');
      }
    });
    assert.equal(blurred.precision, 'float32-products');
    const worst32 = Math.max(...expected.map((x, i) => Math.abs(x - blurred.eigenvalues[i]!)));
    assert.ok(worst32 > 1e-10 * scale && worst32 < 1e-5 * scale, `float32 products off by ${worst32}`);
    disposeObjective(obj);
    // It runs off the event loop (an activity's heartbeats go on): timers fire while a
    // 1,810-parameter spectrum is formed and diagonalized.
    const wider = buildModel('mlp:49-30-10');
    const wideObj = objective(wider, problem(wider, 128, 6), 1, 'lsce', false);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = Date.now();
    await withNative('off', () => exactSpectrumOf(wideObj, wider.init(3)));
    clearInterval(timer);
    const ms = Date.now() - started;
    disposeObjective(wideObj);
    assert.ok(ms < 100 || ticks >= ms / 50, `${ticks} timer ticks in ${ms} ms: the event loop was blocked`);
  },
);

test("oneDNN's AVX2 kernels are off on AMD processors unless the environment chose an ISA", () => {
  const amd: NodeJS.ProcessEnv = {};
  oneDnnIsaGuard(amd, 'AMD EPYC');
  assert.equal(amd.ONEDNN_MAX_CPU_ISA, 'AVX', 'wrong conv weight gradients or hangs measured with AVX2 there');
  const intel: NodeJS.ProcessEnv = {};
  oneDnnIsaGuard(intel, 'Intel(R) Xeon(R) Platinum 8480+');
  assert.equal(intel.ONEDNN_MAX_CPU_ISA, undefined);
  const chosen: NodeJS.ProcessEnv = { DNNL_MAX_CPU_ISA: 'AVX2' };
  oneDnnIsaGuard(chosen, 'AMD EPYC');
  assert.deepEqual(chosen, { DNNL_MAX_CPU_ISA: 'AVX2' }, "the user's choice stands");
});
