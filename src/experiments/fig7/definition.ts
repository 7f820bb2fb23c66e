import type { ExperimentSpec } from '../experiment';
import { int, num, ParamError, paramSet, vector, type ParamsOf } from '../params';

/** fig7's parameters, declared once. */
export const fig7Params = paramSet({
  alpha: num(0.0001, 'slope α of the valley floor', { min: 0 }),
  lr: num(0.01, 'learning rate η', { above: 0 }),
  /** c: noise covariance is c·H on the non-degenerate coordinate θ1. */
  noise: num(1, 'noise strength c (covariance c·H on θ1)', { above: 0 }),
  steps: int(
    4000000,
    'steps per trajectory (θ2 relaxes in about 2/(η²c) steps: 200 relaxation times at the defaults)',
    { min: 1, large: 1e9 },
  ),
  theta0: vector([0.1, 0.1], 'initial (θ1, θ2)', { length: 2 }),
  /** First step counted as equilibrated; 0 picks five relaxation times, 5·2/(η²c). */
  burnIn: int(0, 'first equilibrated step; 0 = five relaxation times', { min: 0 }),
  /** Keep every k-th state in the trajectory; 0 picks steps/2000. */
  recordEvery: int(0, 'keep every k-th state; 0 = steps/2000', { min: 0 }),
  checkpointEvery: int(200000, 'steps between checkpoints to S3', { min: 1 }),
});

export type Fig7Params = ParamsOf<typeof fig7Params>;

/** fig7: the entropic force of SGD-like noise against a small slope (appendix A.6). */
export const fig7: ExperimentSpec<Fig7Params> = {
  name: 'fig7',
  title: 'Entropic force against a small slope (appendix A.6)',
  paper: 'appendix A.6, fig. 7',
  description:
    'GD vs GD with gradient noise of covariance c·H on L = ½(θ2²+1)θ1² + αθ2: ' +
    'noise holds θ2 at −2α/(ηc), GD lets it fall.',
  params: fig7Params,
  presets: {
    default: {},
    small: {},
    paper: {},
    quick: { lr: 0.02, steps: 1_000_000, checkpointEvery: 100_000 },
  },
  validate(p): void {
    if (p.lr * (1 + p.theta0[1]! ** 2) >= 2) {
      throw new ParamError(`fig7: lr=${p.lr} makes GD unstable on θ1 (needs η(θ2²+1) < 2); lower --set lr`);
    }
  },
};
