/** Optimizers and training: PyTorch SGD semantics, bit-exact replays on CPU and WASM, no leaks, designed noise. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { flatten, resize, subset } from '../../src/data/preprocess';
import { loadMnist } from '../../src/data/mnist';
import { useBackend } from '../../src/engine/backend';
import { gradientAt, hvpAt, lossAt } from '../../src/hessian/hvp';
import { buildModel } from '../../src/models/model';
import { noiseVariances, sampleNoise } from '../../src/optim/noise';
import { sgdStep } from '../../src/optim/sgd';
import { Trainer, type TrainConfig } from '../../src/train/trainer';
import { stateToTensors, tensorsToState } from '../../src/train/state-tensors';
import { decodeSafetensors, encodeSafetensors } from '../../src/checkpoint/safetensors';

const mnist500 = flatten(resize(subset(loadMnist('train'), 500, 1), 14, 14));

function config(overrides: Partial<TrainConfig> = {}): TrainConfig {
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

test('SGD follows torch.optim.SGD: buffer starts as d, then μv + (1 − ν)d, weight decay in d', async () => {
  await useBackend('cpu');
  const cfg = { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 };
  let theta = tf.tensor1d([1, -2]);
  let v: tf.Tensor1D | null = null;
  const grads = [
    [0.5, 0.25],
    [-1, 2],
    [0.125, 0],
  ];
  // float64 by hand
  let t = [1, -2],
    buf: number[] | null = null;
  for (const g of grads) {
    const d = g.map((gi, i) => gi + 0.01 * t[i]!);
    buf = buf ? buf.map((b, i) => 0.9 * b + 0.9 * d[i]!) : d;
    t = t.map((ti, i) => ti - 0.1 * buf![i]!);
    const next = sgdStep(theta, tf.tensor1d(g), v, cfg);
    theta = next.theta;
    v = next.velocity;
  }
  Array.from(theta.dataSync()).forEach((x, i) => assert.ok(Math.abs(x - t[i]!) < 1e-6, `θ${i} ${x} vs ${t[i]}`));
  Array.from(v!.dataSync()).forEach((x, i) => assert.ok(Math.abs(x - buf![i]!) < 1e-6));
});

for (const backend of ['cpu', 'wasm'] as const) {
  test(`replaying steps [12, 30) from a checkpoint at 12 is bit-identical on the ${backend} backend`, async () => {
    assert.ok(await useBackend(backend), `${backend} backend available`);
    const trainer = new Trainer(config());
    const start = { step: 0, theta: trainer.cfg.model.init(1), velocity: null };
    const straight = await trainer.run(start, 30);
    const half = await trainer.run(start, 12);
    // through a fresh trainer, as a resumed worker would
    const resumed = await new Trainer(config()).run(
      { step: half.step, theta: Float32Array.from(half.theta), velocity: Float32Array.from(half.velocity!) },
      30,
    );
    assert.equal(resumed.step, 30);
    assert.deepEqual(resumed.theta, straight.theta);
    assert.deepEqual(resumed.velocity, straight.velocity);
    assert.notDeepEqual(straight.theta, start.theta);
  });
}

test(
  'the CPU and WASM backends agree on loss, gradient and HVP ' + '(catches kernel bugs such as WASM float one-hot)',
  async () => {
    const model = buildModel('mlp:196-30-10');
    const theta = model.init(6);
    const results: Record<string, { loss: number; grad: Float32Array; hv: Float32Array }> = {};
    for (const backend of ['cpu', 'wasm'] as const) {
      await useBackend(backend);
      const x = tf.tensor(mnist500.x.subarray(0, 200 * 196), [200, 196]);
      const y = tf.tensor1d(mnist500.y.subarray(0, 200), 'int32');
      const obj = { model, batches: [{ x, y }], loss: 'lsce' as const, smoothing: 0.1 };
      const flat = tf.tensor1d(theta);
      results[backend] = {
        loss: lossAt(obj, flat),
        grad: gradientAt(obj, flat).dataSync() as Float32Array,
        hv: hvpAt(obj, flat, tf.onesLike(flat)).dataSync() as Float32Array,
      };
    }
    const rel = (a: Float32Array, b: Float32Array): number =>
      Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0) / b.reduce((s, v) => s + v * v, 0));
    assert.ok(
      Math.abs(results.cpu!.loss - results.wasm!.loss) < 1e-5 * results.cpu!.loss,
      `loss ${results.cpu!.loss} vs ${results.wasm!.loss}`,
    );
    assert.ok(rel(results.wasm!.grad, results.cpu!.grad) < 1e-5, 'gradient');
    assert.ok(rel(results.wasm!.hv, results.cpu!.hv) < 1e-4, 'HVP');
    await useBackend('cpu');
  },
);

test('no tensor leaks: tf.memory().numTensors is flat over training steps and Hessian products', async () => {
  await useBackend('cpu');
  const trainer = new Trainer(config());
  let state = await trainer.run({ step: 0, theta: trainer.cfg.model.init(2), velocity: null }, 2);
  const before = tf.memory().numTensors;
  state = await trainer.run(state, 40);
  assert.equal(tf.memory().numTensors, before, 'training');
  const x = tf.tensor(mnist500.x.subarray(0, 100 * 196), [100, 196]);
  const y = tf.tensor1d(mnist500.y.subarray(0, 100), 'int32');
  const theta = tf.tensor1d(state.theta),
    v = tf.onesLike(theta);
  const obj = { model: trainer.cfg.model, batches: [{ x, y }], loss: 'lsce' as const, smoothing: 0.1 };
  hvpAt(obj, theta, v).dispose();
  const held = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) hvpAt(obj, theta, v).dispose();
  assert.equal(tf.memory().numTensors, held, 'Hessian products');
});

test(
  'designed noise has covariance diag(C_ii) in the eigenbasis: ' +
    'SGD-like c·λ, isotropic c, ' +
    'Theorem 2 c·λ·f′(λ)',
  () => {
    const values = [4, 1, -0.5];
    assert.deepEqual(noiseVariances({ kind: 'sgd-like', strength: 0.5 }, values), [2, 0.5, 0]);
    assert.deepEqual(noiseVariances({ kind: 'isotropic', strength: 0.5 }, values), [0.5, 0.5, 0.5]);
    assert.deepEqual(noiseVariances({ kind: 'designed', strength: 0.5, fPrime: (l) => 1 / l }, [4, 1]), [0.5, 0.5]);
    // orthonormal basis of R^3 rotated in the first two coordinates
    const c = Math.cos(0.3),
      s = Math.sin(0.3);
    const eigen = { values: [4, 1], vectors: [Float64Array.of(c, s, 0), Float64Array.of(-s, c, 0)] };
    const n = 20_000;
    const m = [0, 0, 0, 0];
    for (let step = 0; step < n; step++) {
      const xi = sampleNoise({ kind: 'sgd-like', strength: 1 }, eigen, 7, step);
      const a = c * xi[0]! + s * xi[1]!,
        b = -s * xi[0]! + c * xi[1]!;
      m[0]! += a * a;
      m[1]! += b * b;
      m[2]! += a * b;
      m[3]! += xi[2]! ** 2;
    }
    assert.ok(Math.abs(m[0]! / n - 4) < 5 * 4 * Math.sqrt(2 / n));
    assert.ok(Math.abs(m[1]! / n - 1) < 5 * Math.sqrt(2 / n));
    assert.ok(Math.abs(m[2]! / n) < (5 * 2) / Math.sqrt(n));
    assert.equal(m[3], 0);
  },
);

for (const spec of [
  { kind: 'sgd-like', strength: 0.01 },
  { kind: 'isotropic', strength: 1e-4 },
  { kind: 'designed', strength: 0.01, fPrime: (l: number) => 1 / Math.max(l, 1e-3) },
] as const) {
  test(
    `${spec.kind} noise is a pure function of (seed, step): ` +
      'a run resumed at step 12 from a saved checkpoint equals an undisturbed one',
    async () => {
      await useBackend('cpu');
      const cfg = config({
        batchSize: 50,
        sgd: { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0 },
        noise: { spec, k: 2, lanczosSteps: 10, refreshEvery: 5 },
      });
      const start = { step: 0, theta: cfg.model.init(4), velocity: null };
      const straight = await new Trainer(cfg).run(start, 20);
      const half = await new Trainer(cfg).run(start, 12);
      assert.equal(half.noiseAnchor?.step, 10, 'the state carries θ of the last refresh step');
      // through the checkpoint format and a fresh trainer, as a resumed worker would
      const saved = tensorsToState(decodeSafetensors(encodeSafetensors(stateToTensors(half))).tensors);
      const resumed = await new Trainer(cfg).run(saved, 20);
      assert.deepEqual(resumed.theta, straight.theta);
      assert.deepEqual(resumed.velocity, straight.velocity);
      const plain = await new Trainer({ ...cfg, noise: undefined }).run(start, 20);
      assert.notDeepEqual(straight.theta, plain.theta, 'the noise did something');
      const { noiseAnchor: _dropped, ...withoutAnchor } = saved;
      await assert.rejects(new Trainer(cfg).run(withoutAnchor, 20), /needs θ of step 10 \(the state's noiseAnchor\)/);
    },
  );
}

test('a trainer with SGD-like noise in the top-2 eigenbasis runs and replays exactly', async () => {
  await useBackend('cpu');
  const cfg = config({
    batchSize: 500,
    sgd: { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0 },
    noise: { spec: { kind: 'sgd-like', strength: 0.01 }, k: 2, lanczosSteps: 10, refreshEvery: 5 },
  });
  const start = { step: 0, theta: cfg.model.init(4), velocity: null };
  const a = await new Trainer(cfg).run(start, 8);
  const b = await new Trainer(cfg).run(start, 8);
  const plain = await new Trainer({ ...cfg, noise: undefined }).run(start, 8);
  assert.deepEqual(a.theta, b.theta);
  assert.notDeepEqual(a.theta, plain.theta);
});
