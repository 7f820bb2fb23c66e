import { pathExperiment } from '../projected-path/figure';
import { PAPER_CIFAR_RESNET } from '../projected-path/params';
import { validationLossFalls } from './analysis';

/**
 * fig4b/c: SGD on the true labels from a minimum that also memorized shuffled ones (a bad
 * minimum) moves along a connected valley to better generalization.
 */
export const fig4bc = pathExperiment({
  name: 'fig4bc',
  title: 'SGD escapes a badly generalizing minimum along a connected valley (fig. 4b, 4c)',
  paper: 'appendix A.2, fig. 4(b), 4(c)',
  ofPaper: true,
  presets: {
    // The paper's fig4b ratio at CPU size (README, fig4bc): the MNIST ConvNet has 30 parameters per
    // clean sample; 196-64-10 on 500 clean MNIST images (14×14) has 26. The paper's threshold rule, no margin.
    small: {
      start: 'bad-minimum',
      model: 'mlp:196-64-10',
      samples: 500,
      corruptSamples: 250,
      valSamples: 500,
      epochs: 5,
      seeds: 4,
      badEpochs: 30,
      badGdSteps: 500,
    },
    paper: {
      start: 'bad-minimum',
      model: 'convnet4',
      dataset: 'mnist',
      samples: 40000,
      corruptSamples: 20000,
      valSamples: 0,
      epochs: 100,
      seeds: 10,
      lr: 0.1,
      momentum: 0.9,
      batch: 500,
      badEpochs: 150,
      badGdSteps: 5000,
    },
    'paper-resnet18': {
      ...PAPER_CIFAR_RESNET,
      start: 'bad-minimum',
      samples: 40000,
      corruptSamples: 10000,
      badEpochs: 150,
      badGdSteps: 5000,
    },
  },
  extraClaims: validationLossFalls,
});
