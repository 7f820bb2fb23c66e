import type { ExperimentSpec } from '../experiment';
import { bool, int, num, ParamError, paramSet, type ParamsOf } from '../params';

/** fig5's parameters, declared once. */
export const fig5Params = paramSet({
  samples: int(50000, 'training images', { min: 2, max: 60000 }),
  side: int(7, 'image side after resizing (inputs = side²)', { min: 2, large: 64 }),
  hidden: int(70, 'hidden units', { min: 1, large: 10000 }),
  epochs: int(100, 'training epochs', { min: 1, large: 10000 }),
  batch: int(512, 'mini-batch size', { min: 1 }),
  lrLsce: num(0.001, 'learning rate with label-smoothed cross entropy', { above: 0 }),
  lrMse: num(0.1, 'learning rate with MSE', { above: 0 }),
  smoothing: num(0.1, 'label smoothing', { min: 0 }),
  measureEpochs: int(1, 'epochs between CS estimates along training', { min: 1 }),
  csSamples: int(256, 'per-sample gradients of each CS estimate along training', { min: 2, large: 60000 }),
  csProbes: int(32, 'Hutchinson probes for Tr(H²) along training', { min: 1, large: 10000 }),
  exactFinal: bool(false, 'compute the final CS exactly (every sample, every Hessian column)'),
  threshold: num(0.9, "the paper's bound on CS", { above: 0 }),
});

export type Fig5Params = ParamsOf<typeof fig5Params>;

/** fig5: the gradient-noise covariance aligns with the Hessian, CS(H, C) > 0.9. */
export const fig5: ExperimentSpec<Fig5Params> = {
  name: 'fig5',
  title: 'Gradient-noise covariance aligned with the Hessian (fig. 5)',
  paper: 'section 2.1.2, fig. 5',
  description:
    'A 49-70-10 MLP on 7×7 grey images trained with label-smoothed cross entropy (lr 0.001) ' +
    'and with MSE (lr 0.1), batch 512: CS(H, C) = Tr(HC)/sqrt(Tr(H²)Tr(C²)) ' +
    'exceeds 0.9 after several epochs.',
  params: fig5Params,

  presets: {
    default: {},
    paper: {},
    // Minutes on two cores: fewer samples (so the final CS can be exact), batch 64, and a larger
    // learning rate for cross entropy (at 0.001 it barely moves in a few hundred steps).
    small: {
      samples: 512,
      batch: 64,
      epochs: 100,
      lrLsce: 0.05,
      measureEpochs: 10,
      csSamples: 64,
      csProbes: 16,
      exactFinal: true,
    },
  },
  validate(p): void {
    if (p.batch > p.samples) throw new ParamError(`--set batch=${p.batch} is larger than samples=${p.samples}`);
    if (p.samples > 60000) throw new ParamError(`--set samples=${p.samples}: MNIST has 60000 training images`);
  },
  substitutions: (p) => {
    const out = ['MNIST resized to 7×7 in place of CIFAR-10 converted to grey and resized to 7×7'];
    if (p.samples < 50000 || p.batch !== 512 || p.lrLsce !== 0.001) {
      out.push(
        `${p.samples} training images, batch ${p.batch}, cross-entropy lr ${p.lrLsce} ` +
          `(the paper: 50,000, 512, 0.001), to run in minutes on a CPU`,
      );
    }
    return out;
  },
};
