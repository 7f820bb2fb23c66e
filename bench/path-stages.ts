/**
 * `npm run bench -- stages`: the projected path's three numeric stages on fig1's small setting
 * (the 196-512-10 MLP on 500 MNIST images at 14×14, the torch backend on one thread, native
 * programs), each against the way it was done before, measured alternately in this one run:
 * a projection's GD steps with the stopping loss taken from the gradient's forward pass against a
 * loss pass of its own (on fig1's MLP; on fig4a's batch-norm DenseNet against a loss pass with
 * statistics recomputed on tfjs kernels, as every batch-norm model had before); a 30-product XTrace
 * with the addon's LAPACK/BLAS float64 kernels against
 * the JavaScript ones; a 10-point line check against ten bare loss evaluations (its overhead).
 */
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../src/data/mnist';
import { flatten, resize, subset } from '../src/data/preprocess';
import { useBackend } from '../src/engine/backend';
import { registerTorchBackend } from '../src/engine/torch/backend';
import { hessianOperator, lossAt, type Objective } from '../src/hessian/hvp';
import { xtrace } from '../src/hessian/trace-estimators';
import { lineConnected, projectToMinimum } from '../src/landscape/landscape';
import { buildModel } from '../src/models/model';
import { ONE_THREAD } from './engine';
import { timeIt, type Line } from './numerics';

export async function benchPathStages(line: Line, rounds = 3): Promise<void> {
  try {
    registerTorchBackend(ONE_THREAD);
    await useBackend('torch', ONE_THREAD);
  } catch (err) {
    line('path stages', `skipped: no torch backend (${(err as Error).message})`);
    return;
  }
  const data = flatten(resize(subset(loadMnist('train'), 500, 1), 14, 14));
  const model = buildModel('mlp:196-512-10');
  const obj: Objective = {
    model,
    batches: [{ x: tf.tensor(data.x, [500, 196]), y: tf.tensor1d(data.y, 'int32') }],
    loss: 'lsce',
    smoothing: 0.1,
  };
  const theta = model.init(1),
    other = model.init(2);
  const sgd = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0 };
  const steps = 40;
  const project = (fusedLoss: boolean) => () =>
    projectToMinimum(obj, { theta, velocity: null }, { sgd, target: -1, maxSteps: steps, fusedLoss });
  const op = hessianOperator(obj, theta);
  const trace = (native: boolean) => () =>
    xtrace(
      { dim: op.dim, apply: (v) => op.apply(v), kernels: native ? op.kernels : undefined },
      { matvecs: 30, seed: 1 },
    );
  const flat = tf.tensor1d(theta);
  // fig4a's small setting: the shallow DenseNet-BC on 64 grey 8×8 images, one chunk.
  const grey = resize(subset(loadMnist('train'), 64, 1), 8, 8);
  const bnModel = buildModel('densenet-bc:4:1-2-4-3@8x8x1');
  const bn: Objective = {
    model: bnModel,
    batches: [{ x: tf.tensor(grey.x, [64, ...grey.shape]), y: tf.tensor1d(grey.y, 'int32') }],
    loss: 'lsce',
    smoothing: 0.1,
  };
  const bnTheta = bnModel.init(1);
  const bnSteps = 20;
  // An explicit batch mode makes evaluateLoss recompute the statistics in a pass of its own.
  const recomputing: Objective = { ...bn, forward: { batchNorm: { mode: 'batch' } } };
  const projectBn = (o: Objective) => () =>
    projectToMinimum(o, { theta: bnTheta, velocity: null }, { sgd, target: -1, maxSteps: bnSteps });
  const cases = {
    separate: project(false),
    fused: project(true),
    bnRecomputed: projectBn(recomputing),
    bnFused: projectBn(bn),
    xtraceJs: trace(false),
    xtraceNative: trace(true),
    line: () => lineConnected(obj, theta, other, 0.5, 10),
    losses: async () => {
      for (let j = 0; j < 10; j++) lossAt(obj, flat);
    },
  };
  const best: Record<string, number> = {};
  for (let r = 0; r < rounds; r++)
    for (const [name, fn] of Object.entries(cases)) {
      const s = await timeIt(fn, 3);
      best[name] = Math.min(best[name] ?? Infinity, s);
    }
  const ms = (s: number): string => `${(s * 1000).toFixed(1)} ms`;
  line(
    `projection, ${steps} GD steps (fig1 small MLP, 1 thread)`,
    `${ms(best.separate!)} with a loss pass, ${ms(best.fused!)} fused: ${(best.separate! / best.fused!).toFixed(2)}x`,
  );
  line(
    `projection, ${bnSteps} GD steps (fig4a small DenseNet-BC, batch norm, 1 thread)`,
    `${ms(best.bnRecomputed!)} with statistics recomputed, ${ms(best.bnFused!)} fused: ` +
      `${(best.bnRecomputed! / best.bnFused!).toFixed(2)}x`,
  );
  line(
    `XTrace, 30 HVPs over ${model.paramCount} parameters`,
    op.kernels
      ? `${ms(best.xtraceJs!)} JS kernels, ${ms(best.xtraceNative!)} LAPACK/BLAS: ` +
          `${(best.xtraceJs! / best.xtraceNative!).toFixed(2)}x`
      : `${ms(best.xtraceJs!)} (this addon has no float64 kernels)`,
  );
  line(
    'line check, 10 points',
    `${ms(best.line!)}; 10 bare losses ${ms(best.losses!)}: overhead ${(best.line! / best.losses! - 1).toFixed(2)}x`,
  );
  flat.dispose();
  op.dispose();
  tf.dispose([...obj.batches, ...bn.batches].flatMap((b) => [b.x, b.y]));
}
