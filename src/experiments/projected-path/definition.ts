import { pathExperiment } from './figure';
import { PAPER_CIFAR_RESNET } from './params';

/**
 * projected-path: the engine behind figs. 1, 3 and 4 with every parameter open. Train with SGD,
 * project the path onto gradient-descent minima by recursive bisection with line-connectedness
 * checks, and estimate the Hessian trace along it for several seeds.
 */
export const projectedPath = pathExperiment({
  name: 'projected-path',
  title: 'SGD paths projected onto minima, with the Hessian trace along them (fig1, fig3)',
  paper: 'section 2.1.1, fig. 1 and 3',
  presets: { default: {}, small: { seeds: 4 }, paper: PAPER_CIFAR_RESNET },
});
