import { IMAGE_SETS, TRAIN_SIZE } from '../../data/data-source';
import type { ExperimentSpec } from '../experiment';
import { bool, choice, int, num, ParamError, paramSet, type ParamsOf } from '../params';

/** fig5's parameters, declared once; the defaults are the paper's setting (appendix A.4). */
export const fig5Params = paramSet({
  dataset: choice(IMAGE_SETS, 'cifar10', 'training images (CIFAR-10 must be imported: `repro data import cifar10`)'),
  samples: int(50000, 'training images', { min: 2, max: 60000 }),
  side: int(7, 'image side after grey scale and resizing (inputs = side²)', { min: 2, large: 64 }),
  normalize: bool(true, 'standardize the grey inputs (the paper: "normalized")'),
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

/** The paper's setting (appendix A.4): the defaults. */
const PAPER: Partial<Fig5Params> = {};

/** fig5: the gradient-noise covariance aligns with the Hessian, CS(H, C) > 0.9. */
export const fig5: ExperimentSpec<Fig5Params> = {
  name: 'fig5',
  title: 'Gradient-noise covariance aligned with the Hessian (fig. 5)',
  paper: 'appendix A.4, fig. 5',
  description:
    'A 49-70-10 MLP on CIFAR-10 in grey, resized to 7×7 and normalized, trained with label-smoothed cross ' +
    'entropy (lr 0.001) and with MSE (lr 0.1), batch 512: CS(H, C) = Tr(HC)/sqrt(Tr(H²)Tr(C²)) ' +
    'exceeds 0.9 after several epochs.',
  params: fig5Params,

  presets: {
    default: {},
    paper: PAPER,
    // Minutes on two cores: MNIST (no CIFAR needed), fewer samples (so the final CS can be exact),
    // batch 64, and a larger learning rate for cross entropy (at 0.001 it barely moves in a few
    // hundred steps). Inputs as they were before fig5 read CIFAR: not standardized.
    small: {
      dataset: 'mnist',
      samples: 512,
      normalize: false,
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
    if (p.samples > TRAIN_SIZE[p.dataset])
      throw new ParamError(`--set samples=${p.samples}: ${p.dataset} has ${TRAIN_SIZE[p.dataset]} training images`);
  },
  substitutions: (p) => {
    const paper = fig5Params.resolve('fig5', PAPER, []);
    const out: string[] = [];
    if (p.dataset !== paper.dataset) out.push('MNIST in place of CIFAR-10 (both in grey, resized alike)');
    if (p.side !== paper.side || p.hidden !== paper.hidden)
      out.push(`a ${p.side ** 2}-${p.hidden}-10 MLP on ${p.side}×${p.side} images in place of 49-70-10 on 7×7`);
    if (p.normalize !== paper.normalize) out.push('inputs not standardized (the paper normalizes them)');
    const sizes = (['samples', 'epochs', 'batch', 'lrLsce', 'lrMse', 'smoothing'] as const).filter(
      (k) => p[k] !== paper[k],
    );
    if (sizes.length)
      out.push(
        `${sizes.map((k) => `${k} ${p[k]}`).join(', ')} in place of ` +
          `${sizes.map((k) => String(paper[k])).join(', ')} (the paper's), to run in minutes on a CPU`,
      );
    return out;
  },
};
