import type { ExperimentDefinition } from '../registry';
import { ParamError, type Params } from '../params';

export interface Fig5Params {
  /** Training images (MNIST, standing in for CIFAR-10 grey). */
  samples: number;
  /** Images are resized to side × side grey and flattened: 7 gives the paper's 49 inputs. */
  side: number;
  hidden: number;
  epochs: number;
  batch: number;
  lrLsce: number;
  lrMse: number;
  smoothing: number;
  /** Epochs between the randomized CS estimates along training. */
  measureEpochs: number;
  /** Per-sample gradients and Hutchinson probes of the randomized CS estimates along training. */
  csSamples: number;
  csProbes: number;
  /** The final CS is exact (every sample and every Hessian column) when true. */
  exactFinal: boolean;
  threshold: number;
}

/** fig5: the gradient-noise covariance aligns with the Hessian, CS(H, C) > 0.9. */
export const fig5: ExperimentDefinition = {
  name: 'fig5',
  title: 'Gradient-noise covariance aligned with the Hessian (fig. 5)',
  paper: 'section 2.1.2, fig. 5',
  description:
    'A 49-70-10 MLP on 7×7 grey images trained with label-smoothed cross entropy (lr 0.001) and with MSE (lr 0.1), batch 512: CS(H, C) = Tr(HC)/sqrt(Tr(H²)Tr(C²)) exceeds 0.9 after several epochs.',
  workflowType: 'studyWorkflow',
  params: [
    { name: 'samples', kind: 'int', default: 50000, description: 'training images', min: 2 },
    { name: 'side', kind: 'int', default: 7, description: 'image side after resizing (inputs = side²)', min: 2 },
    { name: 'hidden', kind: 'int', default: 70, description: 'hidden units', min: 1 },
    { name: 'epochs', kind: 'int', default: 100, description: 'training epochs', min: 1 },
    { name: 'batch', kind: 'int', default: 512, description: 'mini-batch size', min: 1 },
    {
      name: 'lrLsce',
      kind: 'number',
      default: 0.001,
      description: 'learning rate with label-smoothed cross entropy',
      above: 0,
    },
    { name: 'lrMse', kind: 'number', default: 0.1, description: 'learning rate with MSE', above: 0 },
    { name: 'smoothing', kind: 'number', default: 0.1, description: 'label smoothing', min: 0 },
    {
      name: 'measureEpochs',
      kind: 'int',
      default: 1,
      description: 'epochs between CS estimates along training',
      min: 1,
    },
    {
      name: 'csSamples',
      kind: 'int',
      default: 256,
      description: 'per-sample gradients of each CS estimate along training',
      min: 2,
    },
    { name: 'csProbes', kind: 'int', default: 32, description: 'Hutchinson probes for Tr(H²) along training', min: 1 },
    {
      name: 'exactFinal',
      kind: 'bool',
      default: false,
      description: 'compute the final CS exactly (every sample, every Hessian column)',
    },
    { name: 'threshold', kind: 'number', default: 0.9, description: "the paper's bound on CS", above: 0 },
  ],
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
  validate(params: Params): void {
    const p = params as unknown as Fig5Params;
    if (p.batch > p.samples) throw new ParamError(`--set batch=${p.batch} is larger than samples=${p.samples}`);
    if (p.samples > 60000) throw new ParamError(`--set samples=${p.samples}: MNIST has 60000 training images`);
  },
  substitutions: (params: Params) => {
    const p = params as unknown as Fig5Params;
    const out = ['MNIST resized to 7×7 in place of CIFAR-10 converted to grey and resized to 7×7'];
    if (p.samples < 50000 || p.batch !== 512 || p.lrLsce !== 0.001) {
      out.push(
        `${p.samples} training images, batch ${p.batch}, cross-entropy lr ${p.lrLsce} (the paper: 50,000, 512, 0.001), to run in minutes on a CPU`,
      );
    }
    return out;
  },
};
