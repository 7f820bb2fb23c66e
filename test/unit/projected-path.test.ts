import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../../src/data/mnist';
import { flatten, resize, subset } from '../../src/data/preprocess';
import { useBackend } from '../../src/engine/backend';
import { lineConnected, projectToMinimum, evaluateLoss } from '../../src/landscape/landscape';
import { DEFAULT_WINDOW, projectedPath, type PathOracle } from '../../src/landscape/projected-path';
import { buildModel } from '../../src/models/model';
import { autoThreshold } from '../../src/experiments/projected-path/parts';
import { Trainer, type TrainState } from '../../src/train/trainer';

/** "States" are iterations; the minimum of iteration t is the valley floor(t / 10); minima connect within a valley. */
const valleys = (
  delay = 0,
  calls = { replay: 0, inFlight: 0, maxInFlight: 0 },
): { oracle: PathOracle<number, number>; calls: typeof calls } => {
  const track = async <T>(v: T): Promise<T> => {
    calls.inFlight++;
    calls.maxInFlight = Math.max(calls.maxInFlight, calls.inFlight);
    await new Promise((r) => setTimeout(r, delay));
    calls.inFlight--;
    return v;
  };
  return {
    calls,
    oracle: {
      replay: async (_from, to) => {
        calls.replay++;
        return track(to);
      },
      project: async (state) => track(Math.floor(state / 10)),
      connected: async (a, b) => track({ connected: a === b, maxLoss: a === b ? 0 : 1 }),
    },
  };
};

test(
  'bisection on a landscape with known valleys: ' + 'splits exactly where minima are not connected, and reports it',
  async () => {
    const { oracle, calls } = valleys();
    const { path, counts } = await projectedPath(
      oracle,
      [0, 16, 32].map((t) => ({ iteration: t, state: t })),
    );
    const its = path.map((p) => p.iteration);
    assert.deepEqual(
      its,
      [...its].sort((a, b) => a - b),
      'ordered',
    );
    for (const boundary of [10, 20, 30]) {
      assert.ok(
        counts.unconnected.some((u) => u.from === boundary - 1 && u.to === boundary),
        `valley change at ${boundary} left as an adjacent unconnected pair`,
      );
    }
    for (let i = 1; i < path.length; i++) {
      const connected = path[i - 1]!.minimum === path[i]!.minimum;
      assert.ok(
        connected || path[i]!.iteration - path[i - 1]!.iteration === 1,
        `pair ${its[i - 1]}-${its[i]} connected or adjacent`,
      );
    }
    assert.equal(counts.replays, calls.replay);
    assert.equal(counts.projections, path.length);
    assert.equal(counts.unconnected.length, 3);
    assert.ok(
      counts.unconnected.every((u) => u.maxLoss === 1),
      'with the segment loss that broke them',
    );
    assert.equal(
      counts.connectedPairs + counts.unconnected.length,
      path.length - 1,
      'every consecutive pair is one or the other',
    );
    assert.equal(counts.maxDepth, Math.max(...path.map((p) => p.depth)));
    assert.ok(counts.maxDepth >= 3 && path[0]!.depth === 0);
  },
);

test(
  "the bisection keeps at most 16 oracle calls in flight (the README's window), " + 'however many halves are open',
  async () => {
    // 64 epoch pairs, each with a valley change inside: unbounded, every pair bisects at once.
    const { oracle, calls } = valleys(2);
    const checkpoints = Array.from({ length: 65 }, (_, i) => ({ iteration: i * 10 + 5, state: i * 10 + 5 }));
    const { counts } = await projectedPath(oracle, checkpoints);
    assert.equal(DEFAULT_WINDOW, 16);
    assert.equal(calls.maxInFlight, 16, `at most ${DEFAULT_WINDOW} in flight, and the window is used`);
    assert.equal(counts.unconnected.length, 64);
    const narrow = valleys(1);
    await projectedPath(narrow.oracle, checkpoints.slice(0, 9), { window: 3 });
    assert.equal(narrow.calls.maxInFlight, 3);
  },
);

// The 49-20-10 MLP on 200 MNIST images (7×7), 4 epochs of 10 SGD steps after 2 of warm-up.
async function mlpPath(margin: number) {
  await useBackend('wasm');
  const data = flatten(resize(subset(loadMnist('train'), 200, 3), 7, 7));
  const model = buildModel('mlp:49-20-10');
  const sgd = { lr: 0.5, momentum: 0.9, dampening: 0, weightDecay: 0 };
  const trainer = new Trainer({ model, data, loss: 'lsce', smoothing: 0.1, batchSize: 20, sgd, seed: 5 });
  const obj = {
    model,
    batches: [{ x: tf.tensor(data.x, [200, 49]), y: tf.tensor1d(data.y, 'int32') }],
    loss: 'lsce' as const,
    smoothing: 0.1,
  };
  const threshold = 0.75;
  let state: TrainState = await trainer.run({ step: 0, theta: model.init(1), velocity: null }, 20);
  const checkpoints = [{ iteration: 20, state }];
  for (let e = 3; e <= 6; e++) {
    state = await trainer.run(state, 10 * e);
    checkpoints.push({ iteration: 10 * e, state });
  }
  const oracle: PathOracle<TrainState, Float32Array> = {
    replay: (from, to) => trainer.run(from.state, to),
    project: async (s) => {
      const p = await projectToMinimum(
        obj,
        { theta: s.theta, velocity: s.velocity },
        { sgd, target: threshold - margin, maxSteps: 3000 },
      );
      assert.ok(p.reached, `projection reached ${threshold - margin} (loss ${p.loss})`);
      return p.theta;
    },
    connected: async (a, b) => lineConnected(obj, a, b, threshold, 10),
  };
  const out = await projectedPath(oracle, checkpoints);
  return { ...out, obj, threshold };
}

test(
  'projections that stop at the threshold itself leave the path broken: ' +
    'both ends sit on the boundary and the segment bulges over it',
  async () => {
    const { counts } = await mlpPath(0);
    assert.ok(counts.unconnected.length > 0, 'adjacent iterations left unconnected');
    assert.ok(
      counts.unconnected.every((u) => u.maxLoss >= 0.75 && u.maxLoss < 0.8),
      'barely over: ' + JSON.stringify(counts.unconnected.slice(0, 3)),
    );
    await useBackend('cpu');
  },
);

test("each point carries its segment's barrier: the highest loss of the check that settled it", async () => {
  const { oracle } = valleys();
  const { path } = await projectedPath(
    oracle,
    [0, 16, 32].map((t) => ({ iteration: t, state: t })),
  );
  for (let i = 0; i < path.length - 1; i++) {
    const same = path[i]!.minimum === path[i + 1]!.minimum;
    assert.equal(path[i]!.nextMaxLoss, same ? 0 : 1, `segment ${path[i]!.iteration} → ${path[i + 1]!.iteration}`);
  }
  assert.equal(path[path.length - 1]!.nextMaxLoss, undefined, 'the last point has no segment');
});

test("the paper's threshold is the seed's lowest training loss at an epoch boundary after the first", () => {
  assert.equal(autoThreshold([2.3, 0.9, 0.7, 0.75]), 0.7);
  assert.equal(autoThreshold([0.1, 0.9, 0.8]), 0.8, 'the initialization (a bad minimum in fig4bc) is not counted');
  assert.equal(autoThreshold([2.3, null, 0.8, NaN]), 0.8, 'unrecorded and diverged epochs are skipped');
  assert.ok(Number.isNaN(autoThreshold([2.3])) && Number.isNaN(autoThreshold([])), 'nothing trained: no threshold');
});

test('projections to a margin below the threshold give a connected path of minima on the 49-20-10 MLP', async () => {
  const { path, counts, obj, threshold } = await mlpPath(0.02);
  assert.deepEqual(counts.unconnected, [], 'no pair left unconnected');
  for (const p of path) assert.ok((await evaluateLoss(obj, p.minimum)) < threshold - 0.02);
  for (let i = 1; i < path.length; i++) {
    assert.ok(
      (await lineConnected(obj, path[i - 1]!.minimum, path[i]!.minimum, threshold)).connected,
      `pair ${path[i - 1]!.iteration}-${path[i]!.iteration}`,
    );
  }
  assert.equal(counts.projections, path.length);
  assert.equal(counts.connectedPairs, path.length - 1);
  await useBackend('cpu');
});
