import type { ExperimentSpec } from '../experiment';
import { int, num, ParamError, paramSet, type ParamsOf } from '../params';

/** fig6's parameters, declared once. */
export const fig6Params = paramSet({
  samples: int(50000, 'training images', { min: 10, max: 60000 }),
  side: int(32, 'image side (grey MNIST resized; the paper: 32×32 colour CIFAR-10)', { min: 4, large: 128 }),
  epochs: int(30, 'training epochs', { min: 1, large: 10000 }),
  batch: int(100, 'mini-batch size', { min: 1 }),
  lr: num(0.05, 'learning rate η', { above: 0 }),
  momentum: num(0.9, 'momentum μ', { min: 0 }),
  hessianSamples: int(1000, 'samples of the Hessian for the top eigenvector', { min: 1, max: 60000 }),
  lanczosSteps: int(20, 'Lanczos steps for the top eigenvector', { min: 2, large: 1000 }),
  bound: num(0.01, "the paper's bound on |O_L/O_R − 1|", { above: 0 }),
});

export type Fig6Params = ParamsOf<typeof fig6Params>;

/** fig6: timescale separation by Yaida's fluctuation-dissipation relation, full space and top-1 subspace. */
export const fig6: ExperimentSpec<Fig6Params> = {
  name: 'fig6',
  title: "Fast equilibration in the top Hessian direction by Yaida's FDR (fig. 6)",
  paper: 'appendix, fig. 6; Yaida (2019)',
  description:
    'The small CNN (3 conv layers, 15/20/10 channels) trained with SGD and momentum: ' +
    '|⟨O_L⟩/⟨O_R⟩ − 1| projected on the top-1 Hessian eigenvector drops below 1e-2 within a few epochs ' +
    'while the full-space one stays far from it.',
  params: fig6Params,

  presets: {
    default: {},
    paper: {},
    // 8×8 grey images, 10,000 samples, batch 10: 500 steps in each epoch's averaging window,
    // in under a minute on WASM.
    small: { samples: 10000, side: 8, epochs: 4, batch: 10, hessianSamples: 256 },
  },
  validate(p): void {
    if (p.batch > p.samples) throw new ParamError(`--set batch=${p.batch} is larger than samples=${p.samples}`);
    if (p.momentum >= 1) throw new ParamError(`--set momentum=${p.momentum} must be below 1`);
  },
  substitutions: (p) => {
    return [
      `MNIST in grey at ${p.side}×${p.side} in place of CIFAR-10 in colour at 32×32` +
        `${p.samples < 50000 ? `, ${p.samples} samples, ${p.epochs} epochs` : ''}: what the CPU affords`,
    ];
  },
};
