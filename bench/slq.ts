/**
 * `npm run bench -- slq`: what fig2a's spectral estimate is worth, against the exact spectrum.
 * The 49-20-10 MLP (1,210 parameters) on 500 MNIST images at 7×7, trained by GD to near its
 * minimum and then by small-batch SGD (where fig2a measures), so its Hessian has a negative part;
 * the sum of negative eigenvalues from stochastic Lanczos quadrature (per-probe estimates, their
 * mean and standard error) beside the exact sum from the full Hessian's eigendecomposition, with
 * their ratio and the error in standard errors. The comparison the scratch script
 * test/zz-slq.ts made by hand.
 */
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../src/data/mnist';
import { flatten, resize, subset } from '../src/data/preprocess';
import { useBackend } from '../src/engine/backend';
import { exactSpectrum } from '../src/hessian/full-hessian';
import { hessianOperator } from '../src/hessian/hvp';
import { densityIntegral, stochasticLanczosQuadrature } from '../src/hessian/lanczos';
import { buildModel } from '../src/models/model';
import { mean, std } from '../src/stats/statistics';
import { Trainer } from '../src/train/trainer';
import type { Line } from './numerics';

export async function benchSlq(line: Line): Promise<void> {
  await useBackend('cpu');
  const data = flatten(resize(subset(loadMnist('train'), 500, 1), 7, 7));
  const model = buildModel('mlp:49-20-10');
  const sgd = { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0 };
  const common = { model, data, loss: 'lsce' as const, smoothing: 0.1, seed: 1 };
  const gd = await new Trainer({ ...common, batchSize: 500, sgd }).run(
    { step: 0, theta: model.init(1), velocity: null },
    2000,
  );
  const s = await new Trainer({ ...common, batchSize: 25, sgd: { ...sgd, lr: 0.05 }, seed: 2 }).run(
    { ...gd, step: 0 },
    500,
  );
  const objective = {
    model,
    batches: [{ x: tf.tensor(data.x, [500, 49]), y: tf.tensor1d(data.y, 'int32') }],
    loss: 'lsce' as const,
    smoothing: 0.1,
  };
  const op = hessianOperator(objective, s.theta);
  try {
    const exact = await exactSpectrum(op);
    const negative = Array.from(exact.eigenvalues).filter((x) => x < 0);
    const exactSum = negative.reduce((a, b) => a + b, 0);
    line('SLQ vs exact: parameters, negative eigenvalues', `${op.dim}, ${negative.length}`);
    line('SLQ vs exact: exact sum of negative eigenvalues', exactSum.toPrecision(5));
    for (const [steps, probes] of [
      [40, 10],
      [100, 10],
    ] as const) {
      const perProbe: number[] = [];
      for (let p = 0; p < probes; p++) {
        const d = await stochasticLanczosQuadrature(op, { steps, probes: 1, seed: 100 + p });
        perProbe.push(op.dim * densityIntegral(d, (x) => Math.min(x, 0)));
      }
      const m = mean(perProbe),
        se = std(perProbe) / Math.sqrt(probes);
      line(
        `SLQ vs exact: SLQ ${steps} steps × ${probes} probes`,
        `${m.toPrecision(5)} ± ${se.toPrecision(2)}  ratio SLQ/exact ${(m / exactSum).toFixed(3)}  ` +
          `error ${((m - exactSum) / se).toFixed(1)} standard errors`,
      );
    }
  } finally {
    op.dispose();
    objective.batches.forEach((b) => tf.dispose([b.x, b.y]));
  }
}
