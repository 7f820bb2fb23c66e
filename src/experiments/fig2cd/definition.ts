import type { ExperimentSpec } from '../experiment';
import { int, num, ParamError, paramSet, vector, type ParamsOf } from '../params';

/** fig2cd's parameters, declared once. */
export const fig2cdParams = paramSet({
  lr: num(0.05, 'learning rate η', { above: 0 }),
  noise: num(0.05, 'noise strength c', { above: 0 }),
  theta0: vector([0.5, -0.5], 'initial (θ3, θ4); θ1, θ2 start in equilibrium', { length: 2 }),
  steps: int(2000, 'steps per run', { min: 2, large: 1e7 }),
  repeats: int(20, 'independent runs per noise structure', { min: 2, large: 100000 }),
});

export type Fig2cdParams = ParamsOf<typeof fig2cdParams>;

/** fig2cd: SGD-like noise lowers the trace, isotropic noise lowers log det, on a toy where they move apart. */
export const fig2cd: ExperimentSpec<Fig2cdParams> = {
  name: 'fig2cd',
  title: 'SGD-like noise lowers the trace, isotropic noise the determinant (fig. 2c, 2d)',
  paper: 'section 4.2, fig. 2(c), 2(d); Theorem 2, Corollary 2.1',
  description:
    'L = (4 − 2e^{−θ3²−θ4²})θ1² + e^{−(θ3−θ4)²}θ2² from one initial point, ' +
    'with noise c·H and with noise c·I on θ1, θ2: the trace falls under the first, ' +
    'log det under the second, and the other quantity moves the way theory says.',
  params: fig2cdParams,

  // The paper's figs. 2c, 2d run 20,000 iterations (their x axes).
  presets: { default: {}, small: {}, paper: { repeats: 100, steps: 20000 } },
  validate(p): void {
    // λ1 < 8 everywhere and λ2 ≤ 2: GD on θ1, θ2 is stable for η < 0.25.
    if (p.lr >= 0.25)
      throw new ParamError(`--set lr=${p.lr}: ` + `θ1 is unstable for η ≥ 0.25 (λ1 approaches 8); lower it`);
  },
};
