import * as tf from '@tensorflow/tfjs';
import { exactSpectrumOf } from '../../hessian/full-hessian';
import { hessianOperator, lossAt } from '../../hessian/hvp';
import { gradientCovarianceTrace } from '../../hessian/noise-covariance';
import { densityIntegral, stochasticLanczosQuadrature } from '../../hessian/lanczos';
import { buildModel } from '../../models/model';
import { driftTest, mean, std } from '../../stats/statistics';
import { tensorsToState } from '../../train/state-tensors';
import { fullBatchObjective, mnistSubset } from '../mnist-data';
import type { Study, UnitContext, UnitProgram, UnitSpec } from '../experiment';
import { trainingUnit } from '../training-unit';
import { fig2aAnalysis, type Fig2aMinimum, type Fig2aOutput } from './analysis';
import type { Fig2aParams } from './definition';

const modelSpec = (p: Fig2aParams): string => `mlp:${p.side * p.side}-${p.hidden}-10`;
const data = (p: Fig2aParams) => mnistSubset('train', p.samples, p.side, 1);
const objective = (p: Fig2aParams) => fullBatchObjective(buildModel(modelSpec(p)), data(p), 'lsce', p.smoothing);
function trainLossAt(p: Fig2aParams, theta: Float32Array): number {
  const flat = tf.tensor1d(theta);
  try {
    return lossAt(objective(p), flat);
  } finally {
    flat.dispose();
  }
}
const pointId = (batch: number, lr: number): string => `batch=${batch},lr=${lr}`;

/**
 * Σ min(λ, 0) of the full-batch Hessian: exactly (every eigenvalue, float64 on the torch backend)
 * or by stochastic Lanczos quadrature with its error over probes.
 */
async function negativeSum(
  p: Fig2aParams,
  theta: Float32Array,
  seed: number,
): Promise<{ value: number; stderr: number; count: number; method: string }> {
  if (p.spectrum === 'exact') {
    const { eigenvalues, precision } = await exactSpectrumOf(objective(p), theta);
    const negatives = eigenvalues.filter((x) => x < 0);
    return {
      value: negatives.reduce((a, b) => a + b, 0),
      stderr: 0,
      count: negatives.length,
      method: `exact (${precision})`,
    };
  }
  const op = hessianOperator(objective(p), theta);
  try {
    const perProbe: number[] = [];
    for (let k = 0; k < p.slqProbes; k++) {
      const d = await stochasticLanczosQuadrature(op, { steps: p.slqSteps, probes: 1, seed: seed * 1000 + k });
      perProbe.push(op.dim * densityIntegral(d, (x) => Math.min(x, 0)));
    }
    return { value: mean(perProbe), stderr: std(perProbe) / Math.sqrt(perProbe.length), count: NaN, method: 'slq' };
  } finally {
    op.dispose();
  }
}

/**
 * tr Σ at the end point. SGD's noise per step at batch B is (η²/B)(1 − B/M) Σ: where Σ vanishes,
 * so does the noise that appendix A.3's equilibrium needs.
 */
const gradientNoise = (p: Fig2aParams, theta: Float32Array): Promise<number> =>
  gradientCovarianceTrace(objective(p), theta);

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
    measureEvery: (p) => Math.max(1, Math.floor(p.minimumSteps / 100)),
    measure: async (ctx, state) => ({ loss: trainLossAt(ctx.params, state.theta) }),
    // Where the SGD runs start: is it a minimum? Its loss above the floor and its negative
    // eigenvalues say (appendix A.3: none at a minimum).
    async output(ctx, s): Promise<Fig2aMinimum> {
      const neg = await negativeSum(ctx.params, s.train.theta, ctx.seed);
      return {
        trainLoss: trainLossAt(ctx.params, s.train.theta),
        negativeSum: neg.value,
        negativeCount: neg.count,
        gradientNoise: await gradientNoise(ctx.params, s.train.theta),
        losses: s.records.map((r) => [r.step, r.loss!]),
      };
    },
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
    measureEvery: (p) => Math.max(1, Math.floor(p.equilibrateSteps / p.lossRecords)),
    measure: async (ctx, state) => ({ loss: trainLossAt(ctx.params, state.theta) }),
    async output(ctx, s): Promise<Fig2aOutput> {
      const trainLoss = trainLossAt(ctx.params, s.train.theta);
      const neg = await negativeSum(ctx.params, s.train.theta, ctx.seed);
      // The equilibration test: the loss's slope over the last half of the run holds 0.
      const window = s.records.filter((r) => r.step >= ctx.unit.steps / 2);
      const drift = driftTest(
        window.map((r) => r.step),
        window.map((r) => r.loss!),
      );
      return {
        batch,
        lr,
        trainLoss,
        negativeSum: neg.value,
        negativeSumStderr: neg.stderr,
        negativeCount: neg.count,
        spectrum: neg.method,
        gradientNoise: await gradientNoise(ctx.params, s.train.theta),
        equilibration: {
          slope: drift.slope,
          lo: drift.interval.lo,
          hi: drift.interval.hi,
          records: window.length,
          tau: drift.tau,
          effectiveSamples: drift.effectiveSamples,
          equilibrated: drift.stationary,
        },
        losses: s.records.map((r) => [r.step, r.loss!]),
      };
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
      outputs.minimum as Fig2aMinimum,
    ),
};
