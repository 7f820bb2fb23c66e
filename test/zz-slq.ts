import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../src/data/mnist';
import { flatten, resize, subset } from '../src/data/preprocess';
import { useBackend } from '../src/engine/backend';
import { formHessian } from '../src/hessian/full-hessian';
import { hessianOperator, lossAt } from '../src/hessian/hvp';
import { densityIntegral, stochasticLanczosQuadrature } from '../src/hessian/lanczos';
import { symmetricEigenvalues } from '../src/linalg/symmetric-eigen';
import { buildModel } from '../src/models/model';
import { Trainer } from '../src/train/trainer';
(async () => {
  await useBackend('wasm');
  const data = flatten(resize(subset(loadMnist('train'), 500, 1), 14, 14));
  const model = buildModel('mlp:196-30-10');
  const sgd = { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0 };
  const gd = new Trainer({ model, data, loss: 'lsce', smoothing: 0.1, batchSize: 500, sgd, seed: 1 });
  let s = await gd.run({ step: 0, theta: model.init(1), velocity: null }, 3000);
  const noisy = new Trainer({ model, data, loss: 'lsce', smoothing: 0.1, batchSize: 25, sgd: { ...sgd, lr: 0.05 }, seed: 2 });
  s = await noisy.run({ ...s, step: 0 }, 1000);
  const obj = { model, batches: [{ x: tf.tensor(data.x, [500, 196]), y: tf.tensor1d(data.y, 'int32') }], loss: 'lsce' as const, smoothing: 0.1 };
  console.log('loss', lossAt(obj, tf.tensor1d(s.theta)));
  const op = hessianOperator(obj, s.theta);
  for (const [steps, probes] of [[100, 10], [200, 10], [400, 5]] as const) {
    const t0 = Date.now();
    const vals: number[] = [];
    for (let p = 0; p < probes; p++) { const d = await stochasticLanczosQuadrature(op, { steps, probes: 1, seed: 100 + p }); vals.push(6220 * densityIntegral(d, (x) => Math.min(x, 0))); }
    const m = vals.reduce((a, b) => a + b, 0) / vals.length;
    console.log('slq', steps, probes, m, 'sd', Math.sqrt(vals.reduce((a, x) => a + (x - m) ** 2, 0) / (vals.length - 1)), (Date.now() - t0) / 1000, 's');
  }
  const t0 = Date.now();
  const h = await formHessian(op);
  const ev = symmetricEigenvalues(h, 6220);
  const neg = Array.from(ev).filter((x) => x < 0);
  console.log('exact negSum', neg.reduce((a, b) => a + b, 0), 'count', neg.length, 'min', Math.min(...neg), (Date.now() - t0) / 1000, 's');
})();
