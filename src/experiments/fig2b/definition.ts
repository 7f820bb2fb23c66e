import type { ExperimentDefinition } from '../registry';
import { ParamError, type Params } from '../params';

export interface Fig2bParams {
  /** Learning rates η, one unit each. */
  lrs: number[];
  /** Noise strength c (covariance c·H on θ1, θ2). */
  noise: number;
  /** Initial valley position (θ3, θ4). */
  theta0: number[];
  equilibrationSteps: number;
  measureSteps: number;
  /** Independent runs per η. */
  repeats: number;
}

/** fig2b: the trace falls at a rate ∝ η² on the toy L = ½|θ3+θ4|θ1² + ½|θ3+2θ4|θ2² (section 4.2). */
export const fig2b: ExperimentDefinition = {
  name: 'fig2b',
  title: 'Trace decrease proportional to η² on a toy valley (fig. 2b)',
  paper: 'section 4.2, fig. 2(b), Theorem 1',
  description:
    'Per η: SGD-like noise c·H on θ1, θ2; equilibrate, then measure ΔT over the next steps; ΔT against η² is a line of slope −(c/4)‖Σ∇λ‖²·steps.',
  workflowType: 'studyWorkflow',
  params: [
    {
      name: 'lrs',
      kind: 'vector',
      default: [0.01, 0.02, 0.03, 0.04, 0.05],
      description: 'learning rates η (comma list)',
      above: 0,
    },
    { name: 'noise', kind: 'number', default: 0.05, description: 'noise strength c', above: 0 },
    {
      name: 'theta0',
      kind: 'vector',
      default: [1, 0.25],
      description: 'initial (θ3, θ4); θ1, θ2 start in equilibrium',
      length: 2,
    },
    {
      name: 'equilibrationSteps',
      kind: 'int',
      default: 1000,
      description: 'steps with noise before ΔT is measured',
      min: 0,
    },
    { name: 'measureSteps', kind: 'int', default: 1000, description: 'steps over which ΔT is measured', min: 1 },
    { name: 'repeats', kind: 'int', default: 50, description: 'independent runs per η', min: 2 },
  ],
  presets: { default: {}, small: {}, paper: { repeats: 100 } },
  validate(params: Params): void {
    const p = params as unknown as Fig2bParams;
    const [t3, t4] = p.theta0 as [number, number];
    const l = Math.max(Math.abs(t3 + t4), Math.abs(t3 + 2 * t4));
    if (Math.abs(t3 + t4) === 0 || Math.abs(t3 + 2 * t4) === 0)
      throw new ParamError(
        `--set theta0=${p.theta0.join(',')}: θ3+θ4 and θ3+2θ4 must be non-zero (they are the curvatures)`,
      );
    const big = p.lrs.find((lr) => lr * l >= 2);
    if (big !== undefined)
      throw new ParamError(`--set lrs: η=${big} makes θ1, θ2 unstable (needs η·λ < 2, λ up to ${l}); lower it`);
  },
};
