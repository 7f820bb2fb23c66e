import * as tf from '@tensorflow/tfjs';
import { hessianOperator, lossAt } from '../../hessian/hvp';
import { lanczosTopEigenpairs } from '../../hessian/lanczos';
import { xtrace } from '../../hessian/trace-estimators';
import { buildModel } from '../../models/model';
import type { TrainConfig } from '../../train/trainer';
import { tensorsToState } from '../../train/state-tensors';
import { fullBatchObjective, mnistSubset } from '../mnist-data';
import type { Study, UnitContext, UnitProgram, UnitSpec } from '../experiment';
import { trainingUnit } from '../training-unit';
import { noiseTopkAnalysis, VARIANTS, type NoiseTopkOutput, type Variant } from './analysis';
import type { NoiseTopkParams } from './definition';

const modelSpec = (p: NoiseTopkParams): string => `mlp:${p.side * p.side}-${p.hidden}-10`;
const train = (p: NoiseTopkParams) => mnistSubset('train', p.samples, p.side, 2);
const val = (p: NoiseTopkParams) => mnistSubset('test', p.valSamples, p.side, 3);

function trainerFor(p: NoiseTopkParams, variant: Variant | 'minimum', seed: number): TrainConfig {
  const base = { model: buildModel(modelSpec(p)), data: train(p), loss: 'lsce' as const, smoothing: p.smoothing, seed };
  const sgd = (lr: number) => ({ lr, momentum: 0, dampening: 0, weightDecay: 0 });
  switch (variant) {
    case 'minimum':
      return { ...base, batchSize: p.samples, sgd: sgd(p.minimumLr) };
    case 'gd':
      return { ...base, batchSize: p.samples, sgd: sgd(p.lr) };
    case 'sgd':
      return { ...base, batchSize: p.batch, sgd: sgd(p.lr) };
    case 'sgd+topk':
      return {
        ...base,
        batchSize: p.batch,
        sgd: sgd(p.lr),
        noise: {
          spec: { kind: 'isotropic', strength: p.noise },
          k: p.k,
          lanczosSteps: p.lanczosSteps,
          refreshEvery: p.refreshEvery,
        },
      };
  }
}

const program = (variant: Variant | 'minimum', seed: number): UnitProgram<NoiseTopkParams, unknown> =>
  trainingUnit<NoiseTopkParams>({
    // Both SGD variants draw the same batches (seed + 1): they differ by the added noise alone.
    trainer: (ctx) => trainerFor(ctx.params, variant, variant === 'minimum' ? seed : seed + 1),
    start: async (ctx: UnitContext<NoiseTopkParams>) =>
      variant === 'minimum'
        ? { step: 0, theta: buildModel(modelSpec(ctx.params)).init(seed), velocity: null }
        : {
            ...tensorsToState(await ctx.upstream(`minimum/seed=${seed}`)),
            step: 0,
            velocity: null,
            noiseAnchor: undefined,
          },
    measureEvery: 0,
    async output(ctx, s): Promise<NoiseTopkOutput | Record<string, never>> {
      if (variant === 'minimum') return {};
      const p = ctx.params;
      const model = buildModel(modelSpec(p));
      const trainObj = fullBatchObjective(model, train(p), 'lsce', p.smoothing);
      const valObj = fullBatchObjective(model, val(p), 'lsce', p.smoothing);
      const flat = tf.tensor1d(s.train.theta);
      const trainLoss = lossAt(trainObj, flat),
        valLoss = lossAt(valObj, flat);
      flat.dispose();
      const op = hessianOperator(trainObj, s.train.theta);
      try {
        const t = await xtrace(op, { matvecs: p.probes, seed });
        const top = await lanczosTopEigenpairs(op, { k: p.k, steps: p.lanczosSteps, seed: seed + 7 });
        const topk = [...top.values].sort((a, b) => b - a);
        return {
          variant,
          seed,
          trainLoss,
          valLoss,
          trace: t.value,
          traceStderr: t.stderr,
          topk,
          logdetTopk: topk.filter((l) => l > 0).reduce((a, l) => a + Math.log(l), 0),
        };
      } finally {
        op.dispose();
      }
    },
  });

export const study: Study<NoiseTopkParams> = {
  units: (p): UnitSpec[] => {
    const seeds = Array.from({ length: p.seeds }, (_, i) => i + 1);
    return [
      ...seeds.map((seed): UnitSpec => ({
        id: `minimum/seed=${seed}`,
        phase: 0,
        steps: p.minimumSteps,
        checkpointEvery: Math.ceil(p.minimumSteps / 4),
        queue: 'gpu',
        args: { seed, variant: 'minimum' },
      })),
      ...seeds.flatMap((seed) =>
        VARIANTS.map((variant): UnitSpec => ({
          id: `${variant}/seed=${seed}`,
          phase: 1,
          steps: p.steps,
          checkpointEvery: Math.ceil(p.steps / 4),
          queue: 'gpu',
          args: { seed, variant },
        })),
      ),
    ];
  },
  program: (unit) => program(unit.args.variant as Variant | 'minimum', Number(unit.args.seed)),
  analyze: (p, outputs) =>
    noiseTopkAnalysis(
      p,
      Object.values(outputs).filter((o): o is NoiseTopkOutput => 'variant' in (o as object)),
    ),
};
