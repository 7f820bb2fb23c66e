import { pathExperiment } from '../projected-path/figure';
import { SMALL } from '../fig1/definition';
import { PAPER_CIFAR_RESNET } from '../projected-path/params';

/** fig3: the Hessian trace falls along the projected paths of fig1's runs; the trace figure comes first. */
export const fig3 = pathExperiment({
  name: 'fig3',
  title: 'The Hessian trace decreases along projected SGD paths (fig. 3)',
  paper: 'section 4.3, fig. 3',
  ofPaper: true,
  presets: {
    small: SMALL, // fig1's runs: fig3 is their trace, a second view of the same evidence
    paper: PAPER_CIFAR_RESNET,
    'paper-vgg16': { ...PAPER_CIFAR_RESNET, model: 'vgg16-bn' },
  },
  figures: ['trace-along-path', 'losses-along-path', 'barriers-along-path'],
  viewOf: 'fig1',
});
