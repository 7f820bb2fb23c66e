import { covarianceAlignment } from '../../hessian/noise-covariance';
import { lossAt } from '../../hessian/hvp';
import { buildModel } from '../../models/model';
import * as tf from '@tensorflow/tfjs';
import { meanInterval } from '../../stats/statistics';
import { fullBatchObjective } from '../mnist-data';
import type { Study, UnitContext, UnitProgram, UnitEnv } from '../experiment';
import { preparedImages, type PreparedImages } from '../image-data';
import { trainingUnit } from '../training-unit';
import { fig5Analysis, type Fig5Loss, type Fig5Output } from './analysis';
import type { Fig5Params } from './definition';

const modelSpec = (p: Fig5Params): string => `mlp:${p.side * p.side}-${p.hidden}-10`;
/** The paper's inputs: a fixed subset (data seed 0), grey, resized to side × side, normalized, flat. */
const images = (env: UnitEnv, p: Fig5Params): Promise<PreparedImages> =>
  preparedImages(env.data, p.dataset, {
    samples: p.samples,
    seed: 0,
    side: p.side,
    colour: 'grey',
    normalize: p.normalize,
    flat: true,
  });
/** One batch of every sample: per-sample gradients slice it. */
const objective = async (ctx: UnitContext<Fig5Params>, loss: Fig5Loss) => {
  const p = ctx.params;
  return fullBatchObjective(buildModel(modelSpec(p)), (await images(ctx, p)).data, loss, p.smoothing, p.samples);
};

const program = (loss: Fig5Loss, measureEvery: number): UnitProgram<Fig5Params, unknown> =>
  trainingUnit<Fig5Params>({
    trainer: async (ctx) => ({
      model: buildModel(modelSpec(ctx.params)),
      data: (await images(ctx, ctx.params)).data,
      loss,
      smoothing: ctx.params.smoothing,
      batchSize: ctx.params.batch,
      seed: ctx.seed,
      sgd: { lr: loss === 'lsce' ? ctx.params.lrLsce : ctx.params.lrMse, momentum: 0, dampening: 0, weightDecay: 0 },
    }),
    start: async (ctx) => ({ step: 0, theta: buildModel(modelSpec(ctx.params)).init(ctx.seed), velocity: null }),
    measureEvery,
    async measure(ctx: UnitContext<Fig5Params>, s) {
      const p = ctx.params;
      const obj = await objective(ctx, loss);
      const cs = await covarianceAlignment(obj, s.theta, {
        exact: false,
        samples: p.csSamples,
        probes: p.csProbes,
        seed: ctx.seed + s.step,
      });
      const flat = tf.tensor1d(s.theta);
      try {
        return { epoch: s.step / Math.floor(p.samples / p.batch), cs: cs.cs, trainLoss: lossAt(obj, flat) };
      } finally {
        flat.dispose();
      }
    },
    async output(ctx, s): Promise<Fig5Output> {
      const p = ctx.params;
      const obj = await objective(ctx, loss);
      const { data, sha256 } = await images(ctx, p);
      let final: Fig5Output['final'];
      if (p.exactFinal) {
        final = {
          cs: (await covarianceAlignment(obj, s.train.theta, { exact: true, seed: ctx.seed })).cs,
          method: 'exact',
        };
      } else {
        const draws: number[] = [];
        for (let k = 0; k < 4; k++)
          draws.push(
            (
              await covarianceAlignment(obj, s.train.theta, {
                exact: false,
                samples: p.csSamples,
                probes: p.csProbes,
                seed: 1000 + k,
              })
            ).cs,
          );
        const m = meanInterval(draws, 0.95);
        final = { cs: m.mean, method: 'randomized', interval: m.interval };
      }
      const used = { dataset: p.dataset, samples: data.y.length, inputs: data.shape[0]!, sha256 };
      return { loss, data: used, records: s.records as Fig5Output['records'], final };
    },
  });

export const study: Study<Fig5Params> = {
  datasets: (p) => [p.dataset],
  units: (p) => {
    const spe = Math.floor(p.samples / p.batch);
    return (['lsce', 'mse'] as const).map((loss) => ({
      id: loss,
      phase: 0,
      steps: p.epochs * spe,
      checkpointEvery: spe,
      queue: 'gpu',
      args: { loss, measureEvery: spe * p.measureEpochs },
    }));
  },
  program: (unit) => program(unit.args.loss as Fig5Loss, Number(unit.args.measureEvery)),
  analyze: (p, outputs) => fig5Analysis(p, outputs as Record<Fig5Loss, Fig5Output>),
};
