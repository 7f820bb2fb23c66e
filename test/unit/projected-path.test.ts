import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../../src/data/mnist';
import { flatten, resize, subset } from '../../src/data/preprocess';
import { useBackend } from '../../src/engine/backend';
import { lineConnected, projectToMinimum, evaluateLoss } from '../../src/landscape/landscape';
import { projectedPath, type PathOracle } from '../../src/landscape/projected-path';
import { buildModel } from '../../src/models/model';
import { Trainer, type TrainState } from '../../src/train/trainer';

test('bisection on a landscape with known valleys: splits exactly where minima are not connected', async () => {
  // "States" are iterations; the minimum of iteration t is the valley floor(t / 10); two minima are
  // connected iff they are in the same valley. Every valley change must be bracketed to adjacent iterations.
  const calls = { replay: 0 };
  const oracle: PathOracle<number, number> = {
    replay: async (_from, to) => { calls.replay++; return to; },
    project: async (state) => Math.floor(state / 10),
    connected: async (a, b) => a === b,
  };
  const { path, counts } = await projectedPath(oracle, [0, 16, 32].map((t) => ({ iteration: t, state: t })));
  const its = path.map((p) => p.iteration);
  assert.deepEqual(its, [...its].sort((a, b) => a - b), 'ordered');
  for (const boundary of [10, 20, 30]) {
    assert.ok(its.some((t, i) => t < boundary && its[i + 1] === boundary) || its.some((t, i) => t === boundary - 1 && its[i + 1]! >= boundary), `valley change at ${boundary} bracketed`);
  }
  for (let i = 1; i < path.length; i++) {
    const connected = path[i - 1]!.minimum === path[i]!.minimum;
    assert.ok(connected || path[i]!.iteration - path[i - 1]!.iteration === 1, `pair ${its[i - 1]}-${its[i]} connected or adjacent`);
  }
  assert.equal(counts.replays, calls.replay);
  assert.equal(counts.projections, path.length);
  assert.equal(counts.unresolved, 3);
});

test('projected SGD path of the 49-20-10 MLP on MNIST: every projected point is a minimum, consecutive minima are connected or adjacent', async () => {
  await useBackend('wasm');
  const data = flatten(resize(subset(loadMnist('train'), 200, 3), 7, 7));
  const model = buildModel('mlp:49-20-10');
  const sgd = { lr: 0.5, momentum: 0.9, dampening: 0, weightDecay: 0 };
  const trainer = new Trainer({ model, data, loss: 'lsce', smoothing: 0.1, batchSize: 20, sgd, seed: 5 });
  const obj = { model, batches: [{ x: tf.tensor(data.x, [200, 49]), y: tf.tensor1d(data.y, 'int32') }], loss: 'lsce' as const, smoothing: 0.1 };
  // A threshold a little above the projections' reach makes some consecutive minima unconnected.
  const threshold = 0.75;
  // Epoch boundaries of 4 epochs (10 steps each), after 2 epochs of warm-up.
  let state: TrainState = await trainer.run({ step: 0, theta: model.init(1), velocity: null }, 20);
  const checkpoints = [{ iteration: 20, state }];
  for (let e = 3; e <= 6; e++) { state = await trainer.run(state, 10 * e); checkpoints.push({ iteration: 10 * e, state }); }
  const oracle: PathOracle<TrainState, Float32Array> = {
    replay: (from, to) => trainer.run(from.state, to),
    project: async (s) => {
      const p = await projectToMinimum(obj, { theta: s.theta, velocity: s.velocity }, { sgd, threshold, maxSteps: 3000 });
      assert.ok(p.reached, `projection reached ${threshold} (loss ${p.loss})`);
      return p.theta;
    },
    connected: async (a, b) => lineConnected(obj, a, b, threshold, 10).connected,
  };
  const { path, counts } = await projectedPath(oracle, checkpoints);
  assert.ok(counts.replays > 0, 'some epoch pairs needed bisection');
  assert.ok(path.length < 41, 'and others were connected without it');
  for (const p of path) assert.ok(evaluateLoss(obj, p.minimum) < threshold);
  for (let i = 1; i < path.length; i++) {
    const ok = lineConnected(obj, path[i - 1]!.minimum, path[i]!.minimum, threshold).connected || path[i]!.iteration - path[i - 1]!.iteration === 1;
    assert.ok(ok, `pair ${path[i - 1]!.iteration}-${path[i]!.iteration}`);
  }
  assert.equal(counts.projections, path.length);
  await useBackend('cpu');
});
