import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/engine/backend';
import { covarianceAlignment } from '../src/hessian/noise-covariance';
import { mnistSubset, fullBatchObjective } from '../src/experiments/mnist-data';
import { buildModel } from '../src/models/model';
(async () => {
  await useBackend('wasm');
  const d = mnistSubset('train', 400, 7, 0);
  const model = buildModel('mlp:49-12-10');
  const obj = fullBatchObjective(model, d, 'mse', 0.1, 400);
  const theta = model.init(2);
  let t0 = Date.now();
  const exact = await covarianceAlignment(obj, theta, { exact: true, seed: 1 });
  console.log('exact', exact.cs, exact.trHC, exact.trH2, exact.trC2);
  for (const m of [20, 60, 150]) {
    t0 = Date.now();
    const v: number[] = [], a: number[] = [], b: number[] = [], c: number[] = [];
    for (let s = 0; s < 8; s++) { const r = await covarianceAlignment(obj, theta, { exact: false, samples: m, probes: 64, seed: s }); v.push(r.cs); a.push(r.trHC); b.push(r.trH2); c.push(r.trC2); }
    const mu = (x: number[]) => x.reduce((p, q) => p + q, 0) / x.length;
    console.log(m, mu(v), mu(a), mu(b), mu(c));
  }
  void tf;
})();
