import * as tf from '@tensorflow/tfjs';
import { hessianOperator, lossAt } from '../../hessian/hvp';
import { densityIntegral, stochasticLanczosQuadrature } from '../../hessian/lanczos';
import { buildModel } from '../../models/model';
import { mean, std } from '../../stats/statistics';
import { tensorsToState } from '../../train/state-tensors';
import { fullBatchObjective, mnistSubset } from '../mnist-data';
import type { Study, UnitContext, UnitProgram, UnitSpec } from '../experiment';
import { trainingUnit } from '../training-unit';
import { fig2aAnalysis, type Fig2aOutput } from './analysis';
import type { Fig2aParams } from './definition';

const modelSpec = (p: Fig2aParams): string => `mlp:${p.side * p.side}-${p.hidden}-10`;
const data = (p: Fig2aParams) => mnistSubset('train', p.samples, p.side, 1);
const objective = (p: Fig2aParams) => fullBatchObjective(buildModel(modelSpec(p)), data(p), 'lsce', p.smoothing);
const pointId = (batch: number, lr: number): string => `batch=${batch},lr=${lr}`;

/** Σ min(λ, 0) of the full-batch Hessian by stochastic Lanczos quadrature, with its error over probes. */
async function negativeSum(
  p: Fig2aParams,
  theta: Float32Array,
  seed: number,
): Promise<{ value: number; stderr: number }> {
  const op = hessianOperator(objective(p), theta);
  try {
    const perProbe: number[] = [];
    for (let k = 0; k < p.slqProbes; k++) {
      const d = await stochasticLanczosQuadrature(op, { steps: p.slqSteps, probes: 1, seed: seed * 1000 + k });
      perProbe.push(op.dim * densityIntegral(d, (x) => Math.min(x, 0)));
    }
    return { value: mean(perProbe), stderr: std(perProbe) / Math.sqrt(perProbe.length) };
  } finally {
    op.dispose();
  }
}

const minimumProgram = (): UnitProgram<Fig2aParams, unknown> =>
  trainingUnit<Fig2aParams>({
    trainer: (ctx) => ({
      model: buildModel(modelSpec(ctx.params)),
      data: data(ctx.params),
      loss: 'lsce',
      smoothing: ctx.params.smoothing,
      batchSize: ctx.params.samples,
      seed: ctx.seed,
      sgd: { lr: ctx.params.minimumLr, momentum: ctx.params.minimumMomentum, dampening: 0, weightDecay: 0 },
    }),
    start: async (ctx) => ({ step: 0, theta: buildModel(modelSpec(ctx.params)).init(ctx.seed), velocity: null }),
    measureEvery: 0,
    output: () => ({}),
  });

const pointProgram = (batch: number, lr: number): UnitProgram<Fig2aParams, unknown> =>
  trainingUnit<Fig2aParams>({
    trainer: (ctx) => ({
      model: buildModel(modelSpec(ctx.params)),
      data: data(ctx.params),
      loss: 'lsce',
      smoothing: ctx.params.smoothing,
      batchSize: batch,
      seed: ctx.seed + 1,
      sgd: { lr, momentum: 0, dampening: 0, weightDecay: 0 },
    }),
    start: async (ctx: UnitContext<Fig2aParams>) => ({
      ...tensorsToState(await ctx.upstream('minimum')),
      step: 0,
      velocity: null,
    }),
    measureEvery: 0,
    async output(ctx, s): Promise<Fig2aOutput> {
      const flat = tf.tensor1d(s.train.theta);
      const trainLoss = lossAt(objective(ctx.params), flat);
      flat.dispose();
      const neg = await negativeSum(ctx.params, s.train.theta, ctx.seed);
      return { batch, lr, trainLoss, negativeSum: neg.value, negativeSumStderr: neg.stderr };
    },
  });

export const study: Study<Fig2aParams> = {
  units: (p): UnitSpec[] => [
    {
      id: 'minimum',
      phase: 0,
      steps: p.minimumSteps,
      checkpointEvery: Math.max(1, Math.ceil(p.minimumSteps / 10)),
      queue: 'gpu',
      args: {},
    },
    ...p.batches.flatMap((batch) =>
      p.lrs.map((lr): UnitSpec => ({
        id: pointId(batch, lr),
        phase: 1,
        steps: p.equilibrateSteps,
        checkpointEvery: Math.max(1, Math.ceil(p.equilibrateSteps / 4)),
        queue: 'gpu',
        args: { batch, lr },
      })),
    ),
  ],
  program: (unit) =>
    unit.id === 'minimum' ? minimumProgram() : pointProgram(Number(unit.args.batch), Number(unit.args.lr)),
  analyze: (p, outputs) =>
    fig2aAnalysis(
      p,
      Object.entries(outputs)
        .filter(([id]) => id !== 'minimum')
        .map(([, o]) => o as Fig2aOutput),
    ),
};
