import type { ExperimentDefinition } from '../registry';
import { ParamError, type Params } from '../params';

export interface NoiseTopkParams {
  samples: number;
  valSamples: number;
  side: number;
  hidden: number;
  smoothing: number;
  seeds: number;
  /** Full-batch GD to the minimum the three variants start from. */
  minimumLr: number;
  minimumSteps: number;
  /** The three variants: SGD (batch, lr), SGD plus isotropic noise in the top-k eigenspace, GD (lr). */
  batch: number;
  lr: number;
  steps: number;
  k: number;
  /** Noise strength c: variance c along each of the top-k eigenvectors. */
  noise: number;
  refreshEvery: number;
  lanczosSteps: number;
  /** Hessian-vector products of each final trace estimate. */
  probes: number;
}

/** noise-topk: beyond the paper, Corollary 2.1's proposal of isotropic noise in the top-k eigenspace. */
export const noiseTopk: ExperimentDefinition = {
  name: 'noise-topk',
  title: 'Isotropic noise in the top-k Hessian eigenspace (beyond the paper: Corollary 2.1)',
  paper: 'section 3, Corollary 2.1 (proposed, not run in the paper)',
  description:
    'From the same GD minimum, run SGD, SGD plus isotropic noise in the top-k Hessian eigenspace, and GD for several seeds; compare the final trace, the log det of the top-k block and the validation loss.',
  workflowType: 'studyWorkflow',
  params: [
    { name: 'samples', kind: 'int', default: 1000, description: 'training images (real MNIST)', min: 10 },
    { name: 'valSamples', kind: 'int', default: 1000, description: 'validation images (MNIST test split)', min: 1 },
    { name: 'side', kind: 'int', default: 14, description: 'image side (inputs = side²)', min: 2 },
    { name: 'hidden', kind: 'int', default: 30, description: 'hidden units', min: 1 },
    { name: 'smoothing', kind: 'number', default: 0.1, description: 'label smoothing', min: 0 },
    { name: 'seeds', kind: 'int', default: 4, description: 'independent initializations', min: 2 },
    {
      name: 'minimumLr',
      kind: 'number',
      default: 0.1,
      description: 'learning rate of the GD to the minimum',
      above: 0,
    },
    { name: 'minimumSteps', kind: 'int', default: 1500, description: 'GD steps to the minimum', min: 1 },
    { name: 'batch', kind: 'int', default: 25, description: 'SGD batch size', min: 1 },
    { name: 'lr', kind: 'number', default: 0.05, description: 'learning rate of all three variants', above: 0 },
    { name: 'steps', kind: 'int', default: 2000, description: 'steps of each variant', min: 1 },
    { name: 'k', kind: 'int', default: 10, description: 'dimension of the top eigenspace the noise lives in', min: 1 },
    {
      name: 'noise',
      kind: 'number',
      default: 0.01,
      description: 'noise strength c (variance per top-k direction)',
      above: 0,
    },
    {
      name: 'refreshEvery',
      kind: 'int',
      default: 50,
      description: 'steps between recomputations of the top-k eigenbasis',
      min: 1,
    },
    { name: 'lanczosSteps', kind: 'int', default: 40, description: 'Lanczos steps for the top-k eigenpairs', min: 2 },
    { name: 'probes', kind: 'int', default: 40, description: 'HVPs of each final trace estimate (XTrace)', min: 4 },
  ],
  presets: { default: {}, small: {}, paper: { samples: 10000, seeds: 10, steps: 20000, minimumSteps: 5000 } },
  validate(params: Params): void {
    const p = params as unknown as NoiseTopkParams;
    if (p.batch > p.samples) throw new ParamError(`--set batch=${p.batch} is larger than samples=${p.samples}`);
    if (p.lanczosSteps < p.k) throw new ParamError(`--set lanczosSteps=${p.lanczosSteps} must be at least k=${p.k}`);
  },
};
