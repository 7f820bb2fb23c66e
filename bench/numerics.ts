/**
 * Numerics benchmarks: training steps/s and HVPs/s per available backend (ratios to the pure-JS
 * CPU backend), and trace estimators at equal cost on the trained 6220-parameter MLP.
 */
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../src/data/mnist';
import { flatten, resize, subset } from '../src/data/preprocess';
import type { Dataset } from '../src/data/dataset';
import { useBackend } from '../src/engine/backend';
import { formHessian } from '../src/hessian/full-hessian';
import { hessianOperator, hvpAt, lossAt, type Objective } from '../src/hessian/hvp';
import { hutchinson, hutchPlusPlus, xtrace } from '../src/hessian/trace-estimators';
import { symmetricEigenvalues } from '../src/linalg/symmetric-eigen';
import { buildModel, type Model } from '../src/models/model';
import { Trainer } from '../src/train/trainer';

export type Line = (name: string, value: string) => void;

export async function timeIt(fn: () => Promise<unknown>, reps: number): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return [...times].sort((a, b) => a - b)[Math.floor(reps / 2)]! / 1000;
}

function objective(model: Model, d: Dataset, n: number): Objective {
  const s = d.shape.reduce((a, b) => a * b, 1);
  return {
    model,
    batches: [{ x: tf.tensor(d.x.subarray(0, n * s), [n, ...d.shape]), y: tf.tensor1d(d.y.subarray(0, n), 'int32') }],
    loss: 'lsce',
    smoothing: 0.1,
  };
}

/** Steps/s of full-batch training and HVPs/s, per backend, side by side. */
export async function benchThroughput(line: Line): Promise<void> {
  const mnist = flatten(resize(subset(loadMnist('train'), 500, 1), 14, 14));
  const cifarLike: Dataset = {
    name: 'random-32x32x3',
    shape: [32, 32, 3],
    classes: 10,
    x: Float32Array.from({ length: 16 * 3072 }, (_, i) => Math.sin(i)),
    y: Int32Array.from({ length: 16 }, (_, i) => i % 10),
  };
  const rows: Record<string, Record<string, number>> = {};
  for (const backend of ['cpu', 'wasm'] as const) {
    await useBackend(backend);
    const r: Record<string, number> = {};
    const mlp = buildModel('mlp:196-30-10');
    const trainer = new Trainer({
      model: mlp,
      data: mnist,
      loss: 'lsce',
      smoothing: 0.1,
      batchSize: 500,
      sgd: { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0 },
      seed: 1,
    });
    const state = { step: 0, theta: mlp.init(1), velocity: null };
    await trainer.run(state, 5);
    r['MLP 196-30-10 full-batch(500) steps/s'] = 20 / (await timeIt(() => trainer.run(state, 20), 3));
    const obj = objective(mlp, mnist, 500);
    const theta = tf.tensor1d(mlp.init(1)),
      v = tf.onesLike(theta);
    r['MLP 196-30-10 HVPs/s (500 samples)'] =
      1 /
      (await timeIt(async () => {
        const h = hvpAt(obj, theta, v);
        await h.data();
        h.dispose();
      }, 7));
    {
      // Convolution filter gradients are forward convolutions (second-order.ts): both backends train the CNN.
      const cnn = buildModel('small-cnn');
      const cnnTrainer = new Trainer({
        model: cnn,
        data: cifarLike,
        loss: 'lsce',
        smoothing: 0.1,
        batchSize: 16,
        sgd: { lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 0 },
        seed: 1,
      });
      const cs = { step: 0, theta: cnn.init(1), velocity: null };
      r['small CNN train images/s (batch 16)'] = (2 * 16) / (await timeIt(() => cnnTrainer.run(cs, 2), 3));
      const cobj = objective(cnn, cifarLike, 16);
      const ct = tf.tensor1d(cnn.init(1)),
        cv = tf.onesLike(ct);
      r['small CNN HVPs/s (16 images)'] =
        1 /
        (await timeIt(async () => {
          const h = hvpAt(cobj, ct, cv);
          await h.data();
          h.dispose();
        }, 3));
    }
    rows[backend] = r;
  }
  for (const key of Object.keys(rows.cpu!)) {
    const cpu = rows.cpu![key]!,
      wasm = rows.wasm![key];
    line(key, `cpu ${cpu.toFixed(1)}  wasm ${wasm!.toFixed(1)}  ratio wasm/cpu ${(wasm! / cpu).toFixed(2)}`);
  }
}

/**
 * Trace estimators at equal cost on the Hessian of the 196-30-10 MLP trained by full-batch GD
 * on 500 MNIST images (14×14), measured on the real operator: every estimate below is made of
 * double-backprop HVPs with the Rademacher probes the pipeline uses. The exact trace comes from
 * the full Hessian (6220 HVPs, float64). Hutchinson's error with k Rademacher probes is exactly
 * sqrt(2(‖H‖²_F − Σ H_ii²)/k) / |tr H| (checked against a measured Hutchinson run at 60 HVPs);
 * the HVPs it would need to match an estimator's measured error follow from that.
 */
export async function benchTraceEstimators(line: Line, seeds = 100): Promise<void> {
  await useBackend('wasm');
  const mnist = flatten(resize(subset(loadMnist('train'), 500, 1), 14, 14));
  const model = buildModel('mlp:196-30-10');
  const trainer = new Trainer({
    model,
    data: mnist,
    loss: 'lsce',
    smoothing: 0.1,
    batchSize: 500,
    sgd: { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0 },
    seed: 1,
  });
  const t0 = performance.now();
  const trained = await trainer.run({ step: 0, theta: model.init(1), velocity: null }, 3000);
  const obj = objective(model, mnist, 500);
  const loss = lossAt(obj, tf.tensor1d(trained.theta));
  const op = hessianOperator(obj, trained.theta);
  const h = await formHessian(op);
  const n = op.dim;
  let trace = 0,
    frob = 0,
    diag2 = 0;
  for (let i = 0; i < n; i++) {
    trace += h[i * n + i]!;
    diag2 += h[i * n + i]! ** 2;
  }
  for (let i = 0; i < n * n; i++) frob += h[i]! ** 2;
  const negatives = symmetricEigenvalues(h, n).filter((l) => l < 0).length;
  line(
    'trained point (3000 GD steps, lr 0.1)',
    `loss ${loss.toFixed(4)}, exact trace ${trace.toFixed(4)}, ${negatives} negative eigenvalues ` +
      `(${((performance.now() - t0) / 1000).toFixed(0)} s incl. full Hessian)`,
  );
  const hutchRms = (k: number): number => Math.sqrt((2 * (frob - diag2)) / k) / Math.abs(trace);
  const rmsOver = async (est: (seed: number) => Promise<number>): Promise<number> => {
    let sq = 0;
    for (let seed = 0; seed < seeds; seed++) sq += (((await est(seed)) - trace) / trace) ** 2;
    return Math.sqrt(sq / seeds);
  };
  const t1 = performance.now();
  const measuredHutch = await rmsOver(async (seed) => (await hutchinson(op, { probes: 60, seed })).value);
  line(
    `hutchinson at 60 HVPs: RMS relative error (${seeds} seeds, real operator)`,
    `${measuredHutch.toExponential(2)} measured; ${hutchRms(60).toExponential(2)} from the exact Rademacher variance`,
  );
  for (const m of [60, 90]) {
    for (const [name, est] of [
      ['hutch++', hutchPlusPlus],
      ['xtrace', xtrace],
    ] as const) {
      const rms = await rmsOver(async (seed) => (await est(op, { matvecs: m, seed })).value);
      const k = (2 * (frob - diag2)) / (rms * trace) ** 2;
      line(
        `${name} at ${m} HVPs: RMS relative error (${seeds} seeds, real operator)`,
        `${rms.toExponential(2)}; Hutchinson needs ${k.toFixed(0)} HVPs for it: ` +
          `ratio ${(k / m).toFixed(1)} (target >= 3)`,
      );
    }
  }
  op.dispose();
  line(
    'estimator section HVPs',
    `${((performance.now() - t1) / 1000).toFixed(0)} s for ${seeds * (60 + 2 * (60 + 90))} HVPs`,
  );
}
