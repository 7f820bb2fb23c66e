import { pathExperiment } from '../projected-path/figure';
import { PAPER_CIFAR_RESNET } from '../projected-path/params';

/** fig1: projected SGD paths stay in one minimal valley (PreAct-ResNet18 on CIFAR-10 in the paper). */
export const fig1 = pathExperiment({
  name: 'fig1',
  title: 'Projected SGD paths stay in one minimal valley (fig. 1)',
  paper: 'section 2.1.1, fig. 1',
  paperSetting: { model: 'preact-resnet18', dataset: 'cifar10', threshold: 0.55 },
  presets: {
    small: { seeds: 4 },
    paper: PAPER_CIFAR_RESNET,
    'paper-vgg16': { ...PAPER_CIFAR_RESNET, model: 'vgg16-bn' },
  },
});
