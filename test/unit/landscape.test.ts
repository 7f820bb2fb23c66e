/** Landscape tools, batch-norm recomputation, noise-covariance alignment, FDR observables, exact spectra. */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../../src/data/mnist';
import { flatten, resize, subset } from '../../src/data/preprocess';
import { useBackend } from '../../src/engine/backend';
import { FdrMonitor } from '../../src/hessian/fdr';
import { exactSpectrum, formHessian } from '../../src/hessian/full-hessian';
import { hessianOperator, lossAndGradientInChunks, lossAt, type Objective } from '../../src/hessian/hvp';
import { covarianceAlignment, gradientCovarianceTrace, perSampleGradients } from '../../src/hessian/noise-covariance';
import { recomputeBatchNormStats } from '../../src/landscape/batch-norm-stats';
import {
  belowThreshold,
  evaluateLoss,
  lineConnected,
  lossAlongSegment,
  projectToMinimum,
} from '../../src/landscape/landscape';
import { symmetricEigenvalues } from '../../src/linalg/symmetric-eigen';
import { tQuantile } from '../../src/stats/statistics';
import { buildModel } from '../../src/models/model';
import { CounterRng } from '../../src/rng/philox';

before(async () => {
  await useBackend('cpu');
});

const mnist = flatten(resize(subset(loadMnist('train'), 200, 2), 7, 7));
function objective(spec: string, n = 200): Objective {
  const model = buildModel(spec);
  return {
    model,
    batches: [{ x: tf.tensor(mnist.x.subarray(0, n * 49), [n, 49]), y: tf.tensor1d(mnist.y.subarray(0, n), 'int32') }],
    loss: 'lsce',
    smoothing: 0.1,
  };
}

test('one rule for "a minimum": strictly below the threshold, for line checks and projections alike', async () => {
  const obj = objective('mlp:49-20-10');
  const theta = obj.model.init(4);
  const at = await evaluateLoss(obj, theta);
  assert.equal(belowThreshold(at, at), false);
  assert.equal(
    (await lineConnected(obj, theta, theta, at)).connected,
    false,
    'a segment whose loss equals the threshold is not connected',
  );
  assert.equal((await lineConnected(obj, theta, theta, at + 1e-6)).connected, true);
  const sgd = { lr: 0.5, momentum: 0, dampening: 0, weightDecay: 0 };
  const p = await projectToMinimum(obj, { theta, velocity: null }, { sgd, target: at, maxSteps: 100 });
  assert.ok(p.steps >= 1 && p.loss < at, 'a state at the target is not yet projected');
});

test(
  'projection by full-batch GD reaches the target; ' + 'minima are line-connected to themselves, not to a far point',
  async () => {
    const obj = objective('mlp:49-20-10');
    const start = obj.model.init(1);
    const initial = await evaluateLoss(obj, start);
    const p = await projectToMinimum(
      obj,
      { theta: start, velocity: null },
      { sgd: { lr: 0.5, momentum: 0.9, dampening: 0, weightDecay: 0 }, target: 0.6, maxSteps: 2000 },
    );
    assert.ok(p.reached && p.loss < 0.6 && p.loss < initial, `loss ${p.loss} after ${p.steps} steps`);
    const losses = await lossAlongSegment(obj, p.theta, p.theta, 10);
    assert.equal(losses.length, 10);
    assert.ok((await lineConnected(obj, p.theta, p.theta, 0.6)).connected);
    const far = Float32Array.from(p.theta, (t, i) => t + (i % 2 ? 3 : -3));
    const check = await lineConnected(obj, p.theta, far, 0.6);
    assert.equal(check.connected, false);
    assert.ok(check.losses[0]! < 0.6 && check.losses[9]! > 0.6, 'the barrier is found along the segment');
  },
);

test('a projection whose stopping loss comes from the gradient pass stops where a loss pass would', async () => {
  // Two chunks, momentum and weight decay: the fused loss must be evaluateLoss's, bit for bit,
  // or the first step below the target (and so the minimum) could differ.
  const base = objective('mlp:49-20-10');
  const x = base.batches[0]!.x,
    y = base.batches[0]!.y;
  const obj: Objective = {
    ...base,
    batches: [
      { x: x.slice(0, 120), y: y.slice(0, 120) },
      { x: x.slice(120, 80), y: y.slice(120, 80) },
    ],
  };
  const start = obj.model.init(2);
  const sgd = { lr: 0.3, momentum: 0.9, dampening: 0, weightDecay: 5e-4 };
  const run = (fusedLoss: boolean) =>
    projectToMinimum(obj, { theta: start, velocity: null }, { sgd, target: 0.9, maxSteps: 500, fusedLoss });
  const [separate, fused] = [await run(false), await run(true)];
  assert.ok(separate.reached && separate.steps > 5, `reached in ${separate.steps} steps`);
  assert.equal(fused.steps, separate.steps);
  assert.equal(fused.loss, separate.loss);
  assert.deepEqual(fused.theta, separate.theta);
  assert.equal(fused.loss, await evaluateLoss(obj, fused.theta), 'the reported loss is the loss at the minimum');
});

test('batch norm over one chunk: the loss is the batch-mode loss; fused projections stop as others do', async () => {
  // Statistics recomputed over the whole data set are then the chunk's own moments: evaluateLoss
  // must be the gradient pass's loss bit for bit at every step (a recomputation differs by
  // rounding at some of them, enough to move where a projection stops).
  const model = buildModel('densenet-bc:4:1-1-1-1@8x8x1');
  const grey = resize(subset(loadMnist('train'), 32, 4), 8, 8);
  const obj: Objective = {
    model,
    batches: [{ x: tf.tensor(grey.x, [32, 8, 8, 1]), y: tf.tensor1d(grey.y, 'int32') }],
    loss: 'lsce',
    smoothing: 0.1,
  };
  const start = model.init(3);
  const sgd = { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 5e-4 };
  const path: Float32Array[] = [start];
  await projectToMinimum(
    obj,
    { theta: start, velocity: null },
    { sgd, target: -1, maxSteps: 30, checkpointEvery: 1, onCheckpoint: async (s) => void path.push(s.theta) },
  );
  for (const [i, theta] of path.entries()) {
    const flat = tf.tensor1d(theta);
    const r = await lossAndGradientInChunks(obj, flat);
    tf.dispose([flat, r.grad]);
    assert.equal(await evaluateLoss(obj, theta), r.loss, `step ${i}`);
  }
  const target = (await evaluateLoss(obj, start)) * 0.6;
  const run = (fusedLoss: boolean) =>
    projectToMinimum(obj, { theta: start, velocity: null }, { sgd, target, maxSteps: 400, fusedLoss });
  const [separate, fused] = [await run(false), await run(true)];
  assert.ok(separate.reached && separate.steps > 5, `reached in ${separate.steps} steps`);
  assert.equal(fused.steps, separate.steps);
  assert.equal(fused.loss, separate.loss);
  assert.deepEqual(fused.theta, separate.theta);
  tf.dispose([obj.batches[0]!.x, obj.batches[0]!.y]);
});

test(
  'batch norm: statistics recomputed over one batch reproduce the batch-mode loss; ' +
    'pooling over chunks is exact for the first layer',
  async () => {
    const model = buildModel('preact-resnet18:2');
    const rng = new CounterRng(3, 'test/bn');
    const x = tf.tensor(
      Float32Array.from({ length: 8 * 32 * 32 * 3 }, (_, i) => rng.normal(0, i)),
      [8, 32, 32, 3],
    );
    const y = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
    const theta = model.init(5);
    const flat = tf.tensor1d(theta);
    const obj: Objective = { model, batches: [{ x, y }], loss: 'lsce', smoothing: 0.1 };
    const batchMode = lossAt(obj, flat);
    assert.ok(Math.abs((await evaluateLoss(obj, theta)) - batchMode) < 1e-5 * batchMode);
    const whole = await recomputeBatchNormStats(model, flat, [{ x, y }]);
    const halves = await recomputeBatchNormStats(model, flat, [
      { x: x.slice(0, 4), y: y.slice(0, 4) },
      { x: x.slice(4, 4), y: y.slice(4, 4) },
    ]);
    const first = 'layer1.0.bn1';
    for (const k of ['mean', 'variance'] as const) {
      const a = whole.get(first)![k].dataSync(),
        b = halves.get(first)![k].dataSync();
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-5 * (1 + Math.abs(v)), `${k}[${i}] ${v} vs ${b[i]}`));
    }
  },
);

test('tr Σ of the per-sample gradients equals the two-pass covariance trace, and is 0 when all agree', async () => {
  const obj = objective('mlp:49-8-10', 40);
  const theta = obj.model.init(5);
  const grads = await perSampleGradients(
    obj,
    theta,
    Int32Array.from({ length: 40 }, (_, i) => i),
  );
  const mean = grads[0]!.map((_, j) => grads.reduce((s, g) => s + g[j]!, 0) / 40);
  const twoPass = grads.reduce((s, g) => s + g.reduce((t, v, j) => t + (v - mean[j]!) ** 2, 0), 0) / 40;
  const got = await gradientCovarianceTrace(obj, theta);
  assert.ok(twoPass > 0 && Math.abs(got - twoPass) < 1e-9 * twoPass, `${got} vs ${twoPass}`);
  // One sample repeated: every gradient is the mean, no noise.
  const x = obj.batches[0]!.x.slice(0, 1),
    y = obj.batches[0]!.y.slice(0, 1);
  const same: Objective = { ...obj, batches: [{ x: tf.tile(x, [6, 1]), y: tf.tile(y, [6]) }] };
  assert.ok(Math.abs(await gradientCovarianceTrace(same, theta)) < 1e-9 * twoPass);
  tf.dispose([x, y, same.batches[0]!.x, same.batches[0]!.y]);
});

test('CS(H, C) equals the value computed from explicit H and C; the randomized estimate is close', async () => {
  const obj = objective('mlp:49-4-10', 30);
  const theta = obj.model.init(3);
  const exact = await covarianceAlignment(obj, theta, { exact: true, seed: 1 });
  // explicit matrices
  const n = obj.model.paramCount;
  const op = hessianOperator(obj, theta);
  const h = await formHessian(op);
  op.dispose();
  const grads = await perSampleGradients(
    obj,
    theta,
    Int32Array.from({ length: 30 }, (_, i) => i),
  );
  const mean = new Float64Array(n);
  grads.forEach((g) =>
    g.forEach((v, i) => {
      mean[i]! += v / 30;
    }),
  );
  const c = new Float64Array(n * n);
  for (const g of grads)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) c[i * n + j]! += ((g[i]! - mean[i]!) * (g[j]! - mean[j]!)) / 30;
  let hc = 0,
    hh = 0,
    cc = 0;
  for (let i = 0; i < n * n; i++) {
    hc += h[i]! * c[i]!;
    hh += h[i]! ** 2;
    cc += c[i]! ** 2;
  }
  const cs = hc / Math.sqrt(hh * cc);
  assert.ok(Math.abs(exact.cs - cs) < 1e-5, `${exact.cs} vs ${cs}`);
  assert.ok(exact.cs > 0 && exact.cs <= 1);
  const randomized = await covarianceAlignment(obj, theta, { exact: false, samples: 30, probes: 200, seed: 2 });
  assert.ok(Math.abs(randomized.cs - exact.cs) < 0.15 * exact.cs, `randomized ${randomized.cs} vs exact ${exact.cs}`);
});

test('exact spectrum: eigenvalues sum to the trace; negative eigenvalues exist away from a minimum', async () => {
  const obj = objective('mlp:49-6-10', 50);
  const op = hessianOperator(obj, obj.model.init(4));
  const { eigenvalues, trace } = await exactSpectrum(op);
  op.dispose();
  assert.equal(eigenvalues.length, obj.model.paramCount);
  assert.ok(Math.abs(eigenvalues.reduce((a, b) => a + b, 0) - trace) < 1e-6 * Math.abs(trace));
  assert.ok(eigenvalues[0]! < 0, 'a random initialization is not a minimum');
  Array.from(symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2)).forEach((v, i) =>
    assert.ok(Math.abs(v - [1, 3][i]!) < 1e-12),
  );
});

test(
  'FDR observables: ' +
    'O_L = θ·(g + λθ), ' +
    'O_R = (η/2)(1+μ)/(1−ν)‖v‖², ' +
    'half-running means, projected on a basis',
  () => {
    const m = new FdrMonitor({ lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.01 }, [Float64Array.of(1, 0)]);
    m.record([1, 2], [0.5, -1], [0.2, 0.1]);
    m.record([2, 0], [1, 1], [1, 1]);
    m.record([0, 1], [3, 3], [0, 1]);
    // half-running: the last 2 of 3 steps
    const ol = [2 * 1.02 + 0, 0 + 1 * 3.01];
    const or = [0.19 * 2, 0.19 * 1];
    const s = m.summary();
    assert.equal(s.steps, 3);
    assert.ok(Math.abs(s.full.left - (ol[0]! + ol[1]!) / 2) < 1e-12);
    assert.ok(Math.abs(s.full.right - (or[0]! + or[1]!) / 2) < 1e-12);
    assert.ok(Math.abs(s.projected!.left - (2 * 1.02 + 0) / 2) < 1e-12);
    assert.ok(Math.abs(s.projected!.right - (0.19 * (1 + 0)) / 2) < 1e-12);
    // over the whole window (fig6's epochs): all 3 steps
    const all = m.summary(5, 'all');
    const ol0 = 1 * 0.51 + 2 * -0.98;
    assert.ok(Math.abs(all.full.left - (ol0 + ol[0]! + ol[1]!) / 3) < 1e-12);
    assert.ok(Math.abs(all.full.right - (0.19 * 0.05 + or[0]! + or[1]!) / 3) < 1e-12);
  },
);

test(
  'FDR: at stationarity (SGD with momentum on a noisy quadratic) ' +
    'the 95% interval of O_L/O_R covers 1 about 95 times in 100',
  () => {
    // L = h θ²/2 with gradient noise σξ: the relation holds exactly in the stationary state, so
    // the interval (± t·stderr, 4 degrees of freedom) must cover deviation 0 as often as it says.
    const rng = new CounterRng(11, 'test/fdr');
    const sgd = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0 },
      h = 2,
      sigma = 1;
    let covered = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const m = new FdrMonitor(sgd);
      let theta = 0,
        v = 0;
      for (let i = 0; i < 6000; i++) {
        const g = h * theta + sigma * rng.normal(t, i);
        if (i >= 2000) m.record([theta], [g], [v]);
        v = sgd.momentum * v + g;
        theta -= sgd.lr * v;
      }
      const r = m.summary(10).full;
      if (r.deviation <= tQuantile(0.975, r.batches - 1) * r.stderr) covered++;
    }
    assert.ok(covered / trials > 0.91 && covered / trials < 0.99, `coverage ${covered / trials}`);
  },
);
