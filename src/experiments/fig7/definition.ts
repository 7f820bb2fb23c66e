import type { ExperimentDefinition } from '../registry';
import type { Params } from '../params';
import { ParamError } from '../params';
import type { Fig7Params } from './toy';

/** fig7: the entropic force of SGD-like noise against a small slope (appendix A.6). */
export const fig7: ExperimentDefinition = {
  name: 'fig7',
  title: 'Entropic force against a small slope (appendix A.6)',
  paper: 'appendix A.6, fig. 7',
  description:
    'GD vs GD with gradient noise of covariance c·H on L = ½(θ2²+1)θ1² + αθ2: noise holds θ2 at −2α/(ηc), GD lets it fall.',
  workflowType: 'fig7Workflow',
  params: [
    { name: 'alpha', kind: 'number', default: 1e-4, description: 'slope α of the valley floor', min: 0 },
    { name: 'lr', kind: 'number', default: 0.01, description: 'learning rate η', above: 0 },
    { name: 'noise', kind: 'number', default: 1, description: 'noise strength c (covariance c·H on θ1)', above: 0 },
    {
      name: 'steps',
      kind: 'int',
      default: 4_000_000,
      description: 'steps per trajectory (θ2 relaxes in about 2/(η²c) steps: 200 relaxation times at the defaults)',
      min: 1,
    },
    { name: 'theta0', kind: 'vector', default: [0.1, 0.1], description: 'initial (θ1, θ2)', length: 2 },
    {
      name: 'burnIn',
      kind: 'int',
      default: 0,
      description: 'first equilibrated step; 0 = five relaxation times',
      min: 0,
    },
    { name: 'recordEvery', kind: 'int', default: 0, description: 'keep every k-th state; 0 = steps/2000', min: 0 },
    { name: 'checkpointEvery', kind: 'int', default: 200_000, description: 'steps between checkpoints to S3', min: 1 },
    {
      name: 'segmentSteps',
      kind: 'int',
      default: 1_000_000,
      description: 'steps per activity (workflow segment)',
      min: 1,
    },
  ],
  presets: {
    default: {},
    small: {},
    paper: {},
    quick: { lr: 0.02, steps: 1_000_000, checkpointEvery: 100_000, segmentSteps: 500_000 },
  },
  validate(params: Params): void {
    const p = params as unknown as Fig7Params;
    if (p.lr * (1 + p.theta0[1] ** 2) >= 2) {
      throw new ParamError(`fig7: lr=${p.lr} makes GD unstable on θ1 (needs η(θ2²+1) < 2); lower --set lr`);
    }
  },
};
