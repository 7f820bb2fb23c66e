import type { ExperimentDefinition } from '../registry';
import { ParamError, type Params } from '../params';

export interface Fig2aParams {
  samples: number;
  side: number;
  hidden: number;
  smoothing: number;
  /** Full-batch GD to the minimum everything starts from. */
  minimumLr: number;
  minimumMomentum: number;
  minimumSteps: number;
  /** The (batch, lr) grid that equilibrates at different losses. */
  batches: number[];
  lrs: number[];
  equilibrateSteps: number;
  /** Stochastic Lanczos quadrature of the negative part: Lanczos steps and probes. */
  slqSteps: number;
  slqProbes: number;
  /** The paper's fitted slope. */
  paperSlope: number;
}

/** fig2a: the sum of negative Hessian eigenvalues is proportional to the training loss. */
export const fig2a: ExperimentDefinition = {
  name: 'fig2a',
  title: 'Sum of negative Hessian eigenvalues against training loss (fig. 2a)',
  paper: 'section 4.1, fig. 2(a), appendix A.3',
  description:
    'MNIST, 500 samples, 196-30-10 MLP, label-smoothed CE: GD to a minimum, then SGD at several (batch, lr) to equilibrate at different losses; the negative eigenvalue sum is linear in the loss above its floor, through the origin.',
  workflowType: 'studyWorkflow',
  params: [
    { name: 'samples', kind: 'int', default: 500, description: 'training images (real MNIST)', min: 10 },
    {
      name: 'side',
      kind: 'int',
      default: 14,
      description: "image side (inputs = side²; 14 gives the paper's 6220 parameters with 30 hidden)",
      min: 2,
    },
    { name: 'hidden', kind: 'int', default: 30, description: 'hidden units', min: 1 },
    { name: 'smoothing', kind: 'number', default: 0.1, description: 'label smoothing', min: 0 },
    {
      name: 'minimumLr',
      kind: 'number',
      default: 0.1,
      description: 'learning rate of the GD to the minimum',
      above: 0,
    },
    {
      name: 'minimumMomentum',
      kind: 'number',
      default: 0,
      description: 'momentum of the GD to the minimum (the paper: plain GD)',
      min: 0,
    },
    {
      name: 'minimumSteps',
      kind: 'int',
      default: 10000,
      description: "GD steps (full-batch epochs) to the minimum (the paper's 10,000)",
      min: 1,
    },
    {
      name: 'batches',
      kind: 'vector',
      default: [5, 10, 25, 50, 125, 250],
      description: 'batch sizes of the equilibrating runs',
      min: 1,
    },
    {
      name: 'lrs',
      kind: 'vector',
      default: [0.001, 0.005, 0.01, 0.05, 0.1],
      description: 'learning rates of the equilibrating runs',
      above: 0,
    },
    {
      name: 'equilibrateSteps',
      kind: 'int',
      default: 5000,
      description: 'SGD steps of each equilibrating run',
      min: 1,
    },
    { name: 'slqSteps', kind: 'int', default: 100, description: 'Lanczos steps of the quadrature', min: 2 },
    {
      name: 'slqProbes',
      kind: 'int',
      default: 10,
      description: 'probes of the quadrature (its error is their spread)',
      min: 2,
    },
    { name: 'paperSlope', kind: 'number', default: -40.07, description: "the paper's fitted slope w" },
  ],
  presets: {
    default: {},
    paper: {},
    // Nine of the paper's thirty (batch, lr) points, shorter equilibration and a coarser quadrature.
    // Momentum 0.9 reaches the minimum in 4,000 GD steps instead of 10,000.
    small: {
      minimumMomentum: 0.9,
      minimumSteps: 4000,
      batches: [5, 50, 250],
      lrs: [0.005, 0.02, 0.1],
      equilibrateSteps: 1500,
      slqProbes: 6,
    },
  },
  substitutions: (params: Params) => {
    const p = params as unknown as Fig2aParams;
    const out: string[] = [];
    if (p.minimumMomentum > 0)
      out.push(
        `GD with momentum ${p.minimumMomentum} for ${p.minimumSteps} steps to the minimum (the paper: plain GD, 10,000 epochs)`,
      );
    if (p.batches.length * p.lrs.length < 30)
      out.push(
        `${p.batches.length * p.lrs.length} (batch, lr) points of ${p.equilibrateSteps} steps (the paper: batches 5..250, lrs 0.001..0.1)`,
      );
    return out;
  },
  validate(params: Params): void {
    const p = params as unknown as Fig2aParams;
    const big = p.batches.find((b) => b > p.samples || !Number.isInteger(b));
    if (big !== undefined)
      throw new ParamError(`--set batches: ${big} must be a whole number of samples, at most samples=${p.samples}`);
    if (p.batches.length * p.lrs.length < 3)
      throw new ParamError('--set batches/lrs: a line needs at least 3 (batch, lr) points');
  },
};
