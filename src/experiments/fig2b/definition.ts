import type { ExperimentSpec } from '../experiment';
import { int, num, ParamError, paramSet, vector, type ParamsOf } from '../params';

/** fig2b's parameters, declared once. */
export const fig2bParams = paramSet({
  lrs: vector([0.01, 0.02, 0.03, 0.04, 0.05], 'learning rates η (comma list)', { above: 0 }),
  noise: num(0.05, 'noise strength c', { above: 0 }),
  theta0: vector([1, 0.25], 'initial (θ3, θ4); θ1, θ2 start in equilibrium', { length: 2 }),
  equilibrationSteps: int(1000, 'steps with noise before ΔT is measured', { min: 0, large: 1e7 }),
  measureSteps: int(1000, 'steps over which ΔT is measured', { min: 1, large: 1e7 }),
  repeats: int(50, 'independent runs per η', { min: 2, large: 100000 }),
});

export type Fig2bParams = ParamsOf<typeof fig2bParams>;

/** fig2b: the trace falls at a rate ∝ η² on the toy L = ½|θ3+θ4|θ1² + ½|θ3+2θ4|θ2² (section 4.2). */
export const fig2b: ExperimentSpec<Fig2bParams> = {
  name: 'fig2b',
  title: 'Trace decrease proportional to η² on a toy valley (fig. 2b)',
  paper: 'section 4.2, fig. 2(b), Theorem 1',
  description:
    'Per η: SGD-like noise c·H on θ1, θ2; equilibrate, then measure ΔT over the next steps; ' +
    'ΔT against η² is a line of slope −(c/4)‖Σ∇λ‖²·steps.',
  params: fig2bParams,

  presets: { default: {}, small: {}, paper: { repeats: 100 } },
  validate(p): void {
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
