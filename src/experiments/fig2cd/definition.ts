import type { ExperimentDefinition } from '../registry';
import { ParamError, type Params } from '../params';

export interface Fig2cdParams {
  lr: number;
  /** Noise strength c: covariance c·H on θ1, θ2 for SGD-like noise, c·I for isotropic. */
  noise: number;
  /** Initial valley position (θ3, θ4), the same for both noise structures. */
  theta0: number[];
  steps: number;
  /** Independent runs per noise structure. */
  repeats: number;
}

/** fig2cd: SGD-like noise lowers the trace, isotropic noise lowers log det, on a toy where they move apart. */
export const fig2cd: ExperimentDefinition = {
  name: 'fig2cd',
  title: 'SGD-like noise lowers the trace, isotropic noise the determinant (fig. 2c, 2d)',
  paper: 'section 4.2, fig. 2(c), 2(d); Theorem 2, Corollary 2.1',
  description:
    'L = (4 − 2e^{−θ3²−θ4²})θ1² + e^{−(θ3−θ4)²}θ2² from one initial point, with noise c·H and with noise c·I on θ1, θ2: the trace falls under the first, log det under the second, and the other quantity moves the way theory says.',
  workflowType: 'studyWorkflow',
  params: [
    { name: 'lr', kind: 'number', default: 0.05, description: 'learning rate η', above: 0 },
    { name: 'noise', kind: 'number', default: 0.05, description: 'noise strength c', above: 0 },
    {
      name: 'theta0',
      kind: 'vector',
      default: [0.5, -0.5],
      description: 'initial (θ3, θ4); θ1, θ2 start in equilibrium',
      length: 2,
    },
    { name: 'steps', kind: 'int', default: 2000, description: 'steps per run', min: 2 },
    { name: 'repeats', kind: 'int', default: 20, description: 'independent runs per noise structure', min: 2 },
  ],
  presets: { default: {}, small: {}, paper: { repeats: 100, steps: 5000 } },
  validate(params: Params): void {
    const p = params as unknown as Fig2cdParams;
    // λ1 < 8 everywhere and λ2 ≤ 2: GD on θ1, θ2 is stable for η < 0.25.
    if (p.lr >= 0.25) throw new ParamError(`--set lr=${p.lr}: θ1 is unstable for η ≥ 0.25 (λ1 approaches 8); lower it`);
  },
};
