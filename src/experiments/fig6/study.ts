import { FdrMonitor } from '../../hessian/fdr';
import { hessianOperator } from '../../hessian/hvp';
import { lanczosTopEigenpairs } from '../../hessian/lanczos';
import { buildModel } from '../../models/model';
import { stateToTensors, tensorsToState } from '../../train/state-tensors';
import { Trainer, type TrainState } from '../../train/trainer';
import type { Tensor } from '../../checkpoint/safetensors';
import { fullBatchObjective } from '../mnist-data';
import type { Study, UnitEnv, UnitProgram } from '../experiment';
import { preparedImages, type PreparedImages } from '../image-data';
import { fig6Analysis, type EpochFdr, type Fig6Output } from './analysis';
import type { Fig6Params } from './definition';

interface State {
  train: TrainState;
  epochs: EpochFdr[];
}

/** CIFAR-10 in colour, MNIST in grey. */
const channels = (p: Fig6Params): number => (p.dataset === 'cifar10' ? 3 : 1);
const modelSpec = (p: Fig6Params): string => `small-cnn@${p.side}x${p.side}x${channels(p)}`;
/** `samples` images of a fixed draw (data seed 4), area-resized to side × side; the Hessian's are its first ones. */
const images = (env: UnitEnv, p: Fig6Params, samples: number): Promise<PreparedImages> =>
  preparedImages(env.data, p.dataset, {
    samples,
    seed: 4,
    side: p.side,
    colour: 'keep',
    normalize: false,
    flat: false,
  });
const stepsPerEpoch = (p: Fig6Params): number => Math.floor(p.samples / p.batch);

const program: UnitProgram<Fig6Params, State> = {
  numerics: 'tfjs',
  init: (ctx) => ({
    train: { step: 0, theta: buildModel(modelSpec(ctx.params)).init(ctx.seed), velocity: null },
    epochs: [],
  }),
  async advance(ctx, s, untilStep, hooks) {
    const p = ctx.params;
    const model = buildModel(modelSpec(p));
    const sgd = { lr: p.lr, momentum: p.momentum, dampening: 0, weightDecay: 0 };
    const trainer = new Trainer({
      model,
      data: (await images(ctx, p, p.samples)).data,
      loss: 'lsce',
      smoothing: 0.1,
      batchSize: p.batch,
      seed: ctx.seed,
      sgd,
    });
    const spe = stepsPerEpoch(p);
    const hessian = fullBatchObjective(model, (await images(ctx, p, p.hessianSamples)).data, 'lsce', 0.1);
    while (s.train.step < untilStep && !hooks.shouldStop()) {
      // Each epoch is one window: the top eigenvector at its start, averages over the epoch or its latter half.
      const op = hessianOperator(hessian, s.train.theta);
      let top: { values: number[]; vectors: Float64Array[] };
      try {
        top = await lanczosTopEigenpairs(op, { k: 1, steps: p.lanczosSteps, seed: ctx.seed + s.train.step });
      } finally {
        op.dispose();
      }
      const monitor = new FdrMonitor(sgd, top.vectors);
      const end = (Math.floor(s.train.step / spe) + 1) * spe;
      s.train = await trainer.run(s.train, end, {
        yieldEvery: 1,
        onStep: (step) => hooks.onStep?.(step),
        onGradient: (_step, theta, grad, v) => monitor.record(theta, grad, v),
      });
      if (s.train.step < end) break; // stopped mid-epoch: that window is recomputed on resume
      const f = monitor.summary(10, p.window === 'epoch' ? 'all' : 'latter-half');
      s.epochs.push({
        epoch: s.train.step / spe,
        full: f.full,
        projected: f.projected!,
        topEigenvalue: top.values[0]!,
      });
    }
    return s;
  },
  step: (s) => s.train.step,
  save: (s): Record<string, Tensor> => {
    const bytes = new Uint8Array(Buffer.from(JSON.stringify(s.epochs), 'utf8'));
    return { ...stateToTensors(s.train), epochs_json: { dtype: 'U8', shape: [bytes.length], data: bytes } };
  },
  load: (t) => ({
    train: tensorsToState(t),
    epochs: JSON.parse(Buffer.from(t.epochs_json!.data as Uint8Array).toString('utf8')),
  }),
  async output(ctx, s): Promise<Fig6Output> {
    const p = ctx.params;
    const { data, sha256 } = await images(ctx, p, p.samples);
    return { data: { dataset: p.dataset, samples: data.y.length, shape: data.shape, sha256 }, epochs: s.epochs };
  },
};

export const study: Study<Fig6Params> = {
  datasets: (p) => [p.dataset],
  units: (p) => [
    {
      id: 'sgd',
      phase: 0,
      steps: p.epochs * stepsPerEpoch(p),
      checkpointEvery: stepsPerEpoch(p),
      queue: 'gpu',
      args: {},
    },
  ],
  program: () => program,
  analyze: (p, outputs) => fig6Analysis(p, outputs.sgd as Fig6Output),
};
