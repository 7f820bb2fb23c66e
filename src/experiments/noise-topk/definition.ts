import type { ExperimentSpec } from '../experiment';
import { int, num, ParamError, paramSet, type ParamsOf } from '../params';

/** noise-topk's parameters, declared once. */
export const noiseTopkParams = paramSet({
  samples: int(1000, 'training images (real MNIST)', { min: 10, max: 60000 }),
  valSamples: int(1000, 'validation images (MNIST test split)', { min: 1, max: 10000 }),
  side: int(14, 'image side (inputs = side²)', { min: 2, large: 64 }),
  hidden: int(30, 'hidden units', { min: 1, large: 10000 }),
  smoothing: num(0.1, 'label smoothing', { min: 0 }),
  seeds: int(4, 'independent initializations', { min: 2, large: 1000 }),
  minimumLr: num(0.1, 'learning rate of the GD to the minimum', { above: 0 }),
  minimumSteps: int(1500, 'GD steps to the minimum', { min: 1, large: 1e6 }),
  batch: int(25, 'SGD batch size', { min: 1 }),
  lr: num(0.05, 'learning rate of all three variants', { above: 0 }),
  steps: int(2000, 'steps of each variant', { min: 1, large: 1e6 }),
  k: int(10, 'dimension of the top eigenspace the noise lives in', { min: 1, large: 1000 }),
  noise: num(0.01, 'noise strength c (variance per top-k direction)', { above: 0 }),
  refreshEvery: int(50, 'steps between recomputations of the top-k eigenbasis', { min: 1 }),
  lanczosSteps: int(40, 'Lanczos steps for the top-k eigenpairs', { min: 2, large: 1000 }),
  probes: int(40, 'HVPs of each final trace estimate (XTrace)', { min: 4, large: 10000 }),
});

export type NoiseTopkParams = ParamsOf<typeof noiseTopkParams>;

/** noise-topk: beyond the paper, Corollary 2.1's proposal of isotropic noise in the top-k eigenspace. */
export const noiseTopk: ExperimentSpec<NoiseTopkParams> = {
  name: 'noise-topk',
  title: 'Isotropic noise in the top-k Hessian eigenspace (beyond the paper: Corollary 2.1)',
  paper: 'section 3, Corollary 2.1 (proposed, not run in the paper)',
  description:
    'From the same GD minimum, run SGD, SGD plus isotropic noise in the top-k Hessian eigenspace, ' +
    'and GD for several seeds; ' +
    'compare the final trace, the log det of the top-k block and the validation loss.',
  params: noiseTopkParams,

  presets: { default: {}, small: {}, paper: { samples: 10000, seeds: 10, steps: 20000, minimumSteps: 5000 } },
  validate(p): void {
    if (p.batch > p.samples) throw new ParamError(`--set batch=${p.batch} is larger than samples=${p.samples}`);
    if (p.lanczosSteps < p.k) throw new ParamError(`--set lanczosSteps=${p.lanczosSteps} must be at least k=${p.k}`);
  },
};
