import { pathExperiment } from '../projected-path/figure';
import { PAPER_CIFAR_RESNET } from '../projected-path/params';

/** fig3: the Hessian trace falls along the projected paths of fig1's runs; the trace figure comes first. */
export const fig3 = pathExperiment({
  name: 'fig3',
  title: 'The Hessian trace decreases along projected SGD paths (fig. 3)',
  paper: 'section 4.3, fig. 3',
  paperSetting: { model: 'preact-resnet18', dataset: 'cifar10', threshold: 0.55 },
  presets: {
    small: { seeds: 4 },
    paper: PAPER_CIFAR_RESNET,
    'paper-vgg16': { ...PAPER_CIFAR_RESNET, model: 'vgg16-bn' },
  },
  figures: ['trace-along-path', 'losses-along-path'],
});
