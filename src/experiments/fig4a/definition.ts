import { pathExperiment } from '../projected-path/figure';
import { PAPER_CIFAR_RESNET } from '../projected-path/params';

/** fig4a: projected paths and the trace along them on DenseNet-BC, CIFAR-100. */
export const fig4a = pathExperiment({
  name: 'fig4a',
  title: 'Projected paths and trace on DenseNet-BC, CIFAR-100 (fig. 4a)',
  paper: 'appendix A.2, fig. 4(a)',
  paperSetting: { model: 'densenet-bc', dataset: 'cifar100', threshold: 0.8 },
  presets: {
    // A shallow, narrow DenseNet-BC (growth 4, blocks of 1-2-4-3 layers) on 64 grey 8×8 MNIST
    // images: the full one's projections took over 15 minutes on two cores even on 128 images.
    small: {
      model: 'densenet-bc:4:1-2-4-3@8x8x1',
      dataset: 'mnist',
      samples: 64,
      valSamples: 64,
      epochs: 4,
      seeds: 4,
      batch: 16,
      lr: 0.1,
      threshold: 1.9,
      margin: 0.05,
      settleEpochs: 2,
      probes: 4,
      linePoints: 10,
    },
    paper: {
      ...PAPER_CIFAR_RESNET,
      model: 'densenet-bc',
      dataset: 'cifar100',
      batch: 512,
      threshold: 0.8,
      margin: 0.02,
    },
  },
});
