/**
 * The project's numerics on the `torch` backend: HVPs of every model against the cpu backend and
 * the float64 references, bit-identical training replays, flat memory over 1,000 steps, and the
 * backend choice (`auto` picks torch when built; a missing addon is a one-line reason).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/engine/backend';
import { loadTorchAddon } from '../../src/engine/torch/backend';
import { hvpAt, type Objective } from '../../src/hessian/hvp';
import { gaussian } from '../../src/hessian/probes';
import { buildModel, type Model } from '../../src/models/model';
import { CounterRng } from '../../src/rng/philox';
import { Trainer, type TrainState } from '../../src/train/trainer';
import { DEFAULT_NATIVE_MODE } from '../../src/engine/torch/native-mode';
import { mlpReference } from '../reference/mlp-float64';
import { torchRequired } from '../torch-availability';

const skip = torchRequired();

function problem(model: Model, n: number, seed: number): { xs: Float32Array; labels: Int32Array } {
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const rng = new CounterRng(seed, 'test/data');
  return {
    xs: Float32Array.from({ length: n * size }, (_, i) => rng.normal(0, i)),
    labels: Int32Array.from({ length: n }, (_, i) => Math.floor(rng.uniform(1, i) * model.numClasses)),
  };
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

async function hvpOn(
  backend: 'cpu' | 'torch',
  model: Model,
  data: { xs: Float32Array; labels: Int32Array },
  smoothTwin: boolean,
  theta: Float32Array,
  v: Float64Array,
): Promise<Float32Array> {
  await useBackend(backend);
  const n = data.labels.length;
  const obj: Objective = {
    model,
    batches: [{ x: tf.tensor(data.xs, [n, ...model.inputShape]), y: tf.tensor1d(data.labels, 'int32') }],
    loss: 'lsce',
    smoothing: 0.1,
    forward: { smoothTwin },
  };
  const th = tf.tensor1d(theta),
    vt = tf.tensor1d(Float32Array.from(v));
  const hv = hvpAt(obj, th, vt);
  const out = hv.dataSync() as Float32Array;
  tf.dispose([hv, th, vt, obj.batches[0]!.x, obj.batches[0]!.y]);
  return out;
}

// The same reduced widths as hvp.test.ts's finite-difference checks (well conditioned there: the
// BN nets at tiny width and batch make any two float32 backends differ by 1e-3, WASM included).
for (const [spec, n] of [
  ['mlp:196-30-10', 32],
  ['small-cnn', 4],
  ['convnet4', 2],
  ['vgg16-bn:4', 8],
  ['preact-resnet18:4', 2],
  ['densenet-bc:2', 2],
] as const) {
  test(
    `${spec}: HVP on torch equals the cpu backend's (relu and smooth twin), with no cpu fallback`,
    { skip },
    async () => {
      const model = buildModel(spec);
      const data = problem(model, n, 5);
      const theta = model.init(2);
      const v = gaussian(model.paramCount, 9, 0);
      for (const smooth of [false, true]) {
        const want = await hvpOn('cpu', model, data, smooth, theta, v);
        process.env.REPRO_TORCH_FALLBACK = 'error';
        try {
          const got = await hvpOn('torch', model, data, smooth, theta, v);
          const err = relErr(got, want);
          assert.ok(err < 1e-5, `${smooth ? 'smooth twin' : 'relu'}: relative difference ${err}`);
        } finally {
          delete process.env.REPRO_TORCH_FALLBACK;
        }
      }
    },
  );
}

test('MLP HVP on torch equals the float64 R-operator reference', { skip }, async () => {
  await useBackend('torch');
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
    const obj: Objective = {
      model,
      batches: [{ x: tf.tensor(xs, [64, 20]), y: tf.tensor1d(labels, 'int32') }],
      loss: 'lsce',
      smoothing: 0.1,
      forward: { smoothTwin: activation === 'softplus' },
    };
    const hv = hvpAt(obj, tf.tensor1d(theta), tf.tensor1d(Float32Array.from(v))).dataSync();
    assert.ok(relErr(hv, ref.hv) < 1e-4, `${activation}: relative error ${relErr(hv, ref.hv)}`);
  }
});

async function train(spec: string, shape: number[], from: TrainState, until: number): Promise<TrainState> {
  const model = buildModel(spec);
  const n = 16,
    s = shape.reduce((a, b) => a * b, 1);
  const data = {
    name: 'random',
    shape,
    classes: model.numClasses,
    x: Float32Array.from({ length: n * s }, (_, i) => Math.sin(i * 0.37)),
    y: Int32Array.from({ length: n }, (_, i) => i % model.numClasses),
  };
  const trainer = new Trainer({
    model,
    data,
    loss: 'lsce',
    smoothing: 0.1,
    batchSize: 8,
    augment: shape[2] === 3,
    sgd: { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 5e-4 },
    seed: 3,
  });
  return trainer.run(from, until);
}

test(
  'training replays are bit-identical on torch-cpu, straight through or resumed from a checkpoint',
  { skip },
  async () => {
    await useBackend('torch');
    for (const [spec, shape] of [
      ['small-cnn', [32, 32, 3]],
      ['vgg16-bn:2', [32, 32, 3]],
      ['mlp:49-12-10', [49]],
    ] as const) {
      const init: TrainState = { step: 0, theta: buildModel(spec).init(1), velocity: null };
      const a = await train(spec, [...shape], init, 6);
      const b = await train(spec, [...shape], init, 6);
      const half = await train(spec, [...shape], init, 3);
      const resumed = await train(
        spec,
        [...shape],
        {
          step: half.step,
          theta: Float32Array.from(half.theta),
          velocity: half.velocity && Float32Array.from(half.velocity),
        },
        6,
      );
      assert.ok(
        a.theta.some((x, i) => x !== init.theta[i]),
        `${spec}: training moved θ`,
      );
      assert.deepEqual(Buffer.from(b.theta.buffer), Buffer.from(a.theta.buffer), `${spec}: replay`);
      assert.deepEqual(Buffer.from(resumed.theta.buffer), Buffer.from(a.theta.buffer), `${spec}: resumed`);
      assert.deepEqual(
        Buffer.from(resumed.velocity!.buffer),
        Buffer.from(a.velocity!.buffer),
        `${spec}: resumed velocity`,
      );
    }
  },
);

test("tf.memory() and the addon's own tensor count stay flat over 1,000 training steps", { skip }, async () => {
  await useBackend('torch');
  const l = loadTorchAddon();
  assert.ok('addon' in l);
  const spec = 'mlp:49-12-10';
  const init: TrainState = { step: 0, theta: buildModel(spec).init(1), velocity: null };
  const warm = await train(spec, [49], init, 10);
  const before = { tfjs: tf.memory().numTensors, bytes: tf.memory().numBytes, addon: l.addon.stats() };
  const after1000 = await train(spec, [49], warm, 1010);
  assert.equal(after1000.step, 1010);
  assert.equal(tf.memory().numTensors, before.tfjs, 'tfjs tensors');
  assert.equal(tf.memory().numBytes, before.bytes, 'tfjs bytes');
  assert.deepEqual(l.addon.stats(), before.addon, 'addon tensors and bytes');
});

test('backend choice: auto picks torch and names libtorch; a missing addon is a one-line reason', { skip }, () => {
  const root = path.resolve(__dirname, '..', '..', '..');
  const probe = (preference: string, env: Record<string, string> = {}) =>
    spawnSync(
      process.execPath,
      [
        '-e',
        `require('./dist/src/engine/backend').selectBackend('${preference}')` +
          '.then((s) => console.log(JSON.stringify(s.info)), (e) => { console.error(e.message); process.exit(3); })',
      ],
      { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' },
    );
  const auto = probe('auto');
  assert.equal(auto.status, 0, auto.stderr);
  const info = JSON.parse(auto.stdout.trim().split('\n').pop()!) as {
    name: string;
    package: string;
    skipped: string[];
  };
  assert.equal(info.name, 'torch');
  // The CPU thread count, the addon's build (its sources' hash), and the native programs' mode
  // where the suite runs with them (`auto` unless REPRO_TORCH_NATIVE says otherwise).
  const labels: Record<string, string> = { on: ' native', auto: ' native-auto', off: '' };
  const native = labels[process.env.REPRO_TORCH_NATIVE || DEFAULT_NATIVE_MODE]!;
  assert.match(info.package, new RegExp(`^libtorch \\d+\\.\\d+\\.\\d+ cpu \\d+ threads? addon [0-9a-f]{16}${native}$`));
  const missing = probe('torch', { REPRO_TORCH_ADDON: '/nonexistent/repro_torch.node' });
  assert.equal(missing.status, 3);
  assert.match(
    missing.stderr,
    /torch addon not built at \/nonexistent\/repro_torch\.node: install libtorch .*build-torch\.sh/,
  );
  const fallback = probe('auto', { REPRO_TORCH_ADDON: '/nonexistent/repro_torch.node' });
  assert.equal(fallback.status, 0, fallback.stderr);
  const next = JSON.parse(fallback.stdout.trim().split('\n').pop()!) as { name: string; skipped: string[] };
  assert.equal(next.name, 'wasm');
  assert.ok(
    next.skipped.some((s) => s.startsWith('torch: torch addon not built')),
    next.skipped.join('; '),
  );
});
