import { buildModel } from '../../models/model';
import type { ExperimentDefinition } from '../registry';
import { ParamError, type Params } from '../params';

/** The settings of one projected-path pipeline run, as the workflow and activities see them. */
export interface PipelineParams {
  model: string;
  dataset: 'mnist' | 'cifar10' | 'cifar100';
  /** Training samples (a seeded subset; 0 = the whole training split). */
  samples: number;
  /** Validation samples from the test split (0 = all of it). */
  valSamples: number;
  epochs: number;
  seeds: number;
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  batch: number;
  smoothing: number;
  augment: boolean;
  /** A state is a minimum when its training loss is below this; line checks test it at every point. */
  threshold: number;
  /** Projections run GD until the loss is below threshold − margin, so segments between minima have room. */
  margin: number;
  /** The path is claimed connected from this epoch on (the paper: "after a few epochs"); earlier breaks are reported. */
  settleEpochs: number;
  /** Cap on full-batch GD steps of one projection. */
  projectionSteps: number;
  /** A projection in progress is checkpointed every K GD steps. */
  projectionCheckpointEvery: number;
  /** Evaluation points of the line-connectedness check. */
  linePoints: number;
  /** Hessian-vector products per trace estimate (XTrace). */
  probes: number;
  /** Estimate the trace at every k-th point of the path. */
  traceStride: number;
  /** Extra checkpoints every K iterations inside an epoch (0: epoch boundaries only). */
  checkpointEvery: number;
  /**
   * Where SGD starts: `init` (fresh weights), or `bad-minimum` (fig4bc: a minimum that also fits
   * `corruptSamples` extra samples with shuffled labels, then GD on the clean samples alone).
   */
  start: 'init' | 'bad-minimum';
  corruptSamples: number;
  /** SGD epochs on clean ∪ corrupt samples, then GD steps on the clean ones, to reach the bad minimum. */
  badEpochs: number;
  badGdSteps: number;
}

/** The paper's models and data for the projected-path figures, to name what a run substitutes. */
const PAPER_SETTING: Record<string, { model: string; dataset: string; threshold: number } | undefined> = {
  fig1: { model: 'preact-resnet18', dataset: 'cifar10', threshold: 0.55 },
  fig3: { model: 'preact-resnet18', dataset: 'cifar10', threshold: 0.55 },
  fig4a: { model: 'densenet-bc', dataset: 'cifar100', threshold: 0.8 },
  fig4bc: { model: 'convnet4', dataset: 'mnist', threshold: 0.55 },
};

/** Where a projected-path run departs from the paper's setting of its figure. */
export function pathSubstitutions(experiment: string, params: Params): string[] {
  const p = params as unknown as PipelineParams;
  const paper = PAPER_SETTING[experiment];
  if (!paper) return [];
  const out: string[] = [];
  const cifar = p.dataset.startsWith('cifar');
  if (paper.dataset !== p.dataset) {
    out.push(
      `${p.dataset === 'mnist' ? 'MNIST' : p.dataset.toUpperCase()} in place of ${paper.dataset.toUpperCase()}` +
        (cifar || paper.dataset === 'mnist'
          ? ''
          : ': CIFAR is not on this machine (import it with `repro data import`)'),
    );
  }
  if (!p.model.startsWith(paper.model) || p.model !== paper.model)
    out.push(`model ${p.model} in place of ${paper.model}`);
  if (p.threshold !== paper.threshold)
    out.push(`minima below loss ${p.threshold} in place of ${paper.threshold} (what this size of training reaches)`);
  if (p.samples !== 0)
    out.push(
      `${p.samples} training samples, ${p.epochs} epochs, ${p.seeds} seeds (a size that runs in minutes on a CPU)`,
    );
  return out;
}

/**
 * projected-path: train with SGD, project the path onto gradient-descent minima by recursive
 * bisection with line-connectedness checks, and estimate the Hessian trace along it for
 * several seeds (fig1, fig3; fig4 builds on it).
 */
export const projectedPath: ExperimentDefinition = {
  name: 'projected-path',
  title: 'SGD paths projected onto minima, with the Hessian trace along them (fig1, fig3)',
  paper: 'section 2.1.1, fig. 1 and 3',
  description:
    'Train with SGD; project epoch-boundary states to minima by full-batch GD; bisect until consecutive minima are line-connected; estimate the trace along the path for each seed.',
  workflowType: 'projectedPathWorkflow',
  params: [
    { name: 'model', kind: 'string', default: 'mlp:196-30-10', description: 'model (see repro hessian --help)' },
    { name: 'dataset', kind: 'string', default: 'mnist', description: 'mnist, cifar10 or cifar100' },
    { name: 'samples', kind: 'int', default: 500, description: 'training samples (0: all)', min: 0 },
    { name: 'valSamples', kind: 'int', default: 500, description: 'validation samples (0: all)', min: 0 },
    { name: 'epochs', kind: 'int', default: 5, description: 'SGD epochs', min: 1 },
    { name: 'seeds', kind: 'int', default: 10, description: 'independent initializations', min: 1 },
    { name: 'lr', kind: 'number', default: 0.1, description: 'learning rate', above: 0 },
    { name: 'momentum', kind: 'number', default: 0.9, description: 'momentum μ', min: 0 },
    { name: 'dampening', kind: 'number', default: 0, description: 'dampening ν', min: 0 },
    { name: 'weightDecay', kind: 'number', default: 0, description: 'weight decay', min: 0 },
    { name: 'batch', kind: 'int', default: 50, description: 'mini-batch size', min: 1 },
    { name: 'smoothing', kind: 'number', default: 0.1, description: 'label smoothing', min: 0 },
    { name: 'augment', kind: 'bool', default: false, description: 'standard CIFAR augmentation' },
    {
      name: 'threshold',
      kind: 'number',
      default: 0.6,
      description:
        'training loss below which a state is a minimum (label-smoothed CE has a floor: 0.50 for 10 classes, s = 0.1)',
      above: 0,
    },
    {
      name: 'margin',
      kind: 'number',
      default: 0.02,
      description:
        "projections stop below threshold − margin; line checks test the threshold (0 leaves both ends of a segment on the sublevel set's boundary, and the path breaks)",
      min: 0,
    },
    {
      name: 'settleEpochs',
      kind: 'int',
      default: 1,
      description:
        'the path-connected claim counts pairs from this epoch on (the paper: "after a few epochs"); earlier breaks are still reported per seed',
      min: 0,
    },
    { name: 'projectionSteps', kind: 'int', default: 3000, description: 'cap on GD steps per projection', min: 1 },
    {
      name: 'projectionCheckpointEvery',
      kind: 'int',
      default: 100,
      description: 'checkpoint a projection in progress every K GD steps',
      min: 1,
    },
    { name: 'linePoints', kind: 'int', default: 10, description: 'points of the line-connectedness check', min: 2 },
    { name: 'probes', kind: 'int', default: 30, description: 'HVPs per trace estimate (XTrace)', min: 4 },
    { name: 'traceStride', kind: 'int', default: 1, description: 'trace at every k-th path point', min: 1 },
    {
      name: 'checkpointEvery',
      kind: 'int',
      default: 0,
      description: 'extra checkpoints every K iterations (0: epochs only)',
      min: 0,
    },
    {
      name: 'start',
      kind: 'string',
      default: 'init',
      description: 'init, or bad-minimum (fig4bc: start at a minimum that memorized shuffled labels)',
    },
    {
      name: 'corruptSamples',
      kind: 'int',
      default: 0,
      description: "bad-minimum: extra training samples with shuffled labels (the paper's set B)",
      min: 0,
    },
    {
      name: 'badEpochs',
      kind: 'int',
      default: 30,
      description: 'bad-minimum: SGD epochs on the clean and corrupt samples together',
      min: 1,
    },
    {
      name: 'badGdSteps',
      kind: 'int',
      default: 500,
      description: 'bad-minimum: then GD steps on the clean samples alone',
      min: 0,
    },
  ],
  presets: {
    default: {},
    small: { seeds: 4 },
    paper: {
      model: 'preact-resnet18',
      dataset: 'cifar10',
      samples: 0,
      valSamples: 0,
      epochs: 150,
      seeds: 10,
      lr: 0.1,
      momentum: 0.9,
      batch: 500,
      augment: true,
      threshold: 0.55,
      margin: 0.01,
      projectionSteps: 20000,
      projectionCheckpointEvery: 20,
      probes: 100,
      traceStride: 10,
      checkpointEvery: 25,
    },
  },
  substitutions: (params) => pathSubstitutions('projected-path', params),
  validate(params: Params): void {
    const p = params as unknown as PipelineParams;
    try {
      buildModel(p.model); // the one owner of the model grammar: shapes only, no weights
    } catch (err) {
      throw new ParamError(`--set model=${p.model}: ${(err as Error).message}`);
    }
    if (!['mnist', 'cifar10', 'cifar100'].includes(p.dataset))
      throw new ParamError(`--set dataset=${p.dataset}: use mnist, cifar10 or cifar100`);
    if (!['init', 'bad-minimum'].includes(p.start))
      throw new ParamError(`--set start=${p.start}: use init or bad-minimum`);
    if (p.start === 'bad-minimum' && p.corruptSamples < 1)
      throw new ParamError('--set start=bad-minimum needs --set corruptSamples=N (N > 0 samples with shuffled labels)');
    if (p.margin >= p.threshold)
      throw new ParamError(
        `--set margin=${p.margin} must be below threshold=${p.threshold} (projections stop below threshold − margin)`,
      );
    if (p.samples !== 0 && p.batch > p.samples)
      throw new ParamError(`--set batch=${p.batch} is larger than samples=${p.samples}`);
  },
};

/** The figures the projected-path engine reproduces, each one command with the paper's presets. */
const family = (name: string, title: string, paper: string, presets: Record<string, Params>): ExperimentDefinition => ({
  ...projectedPath,
  name,
  title,
  paper,
  presets: { default: presets.small!, ...presets },
  substitutions: (params) => pathSubstitutions(name, params),
});

const CIFAR_RESNET: Params = {
  model: 'preact-resnet18',
  dataset: 'cifar10',
  samples: 0,
  valSamples: 0,
  epochs: 150,
  seeds: 10,
  lr: 0.1,
  momentum: 0.9,
  batch: 500,
  augment: true,
  threshold: 0.55,
  margin: 0.01,
  projectionSteps: 20000,
  projectionCheckpointEvery: 20,
  probes: 100,
  traceStride: 10,
  checkpointEvery: 25,
};

export const fig1 = family('fig1', 'Projected SGD paths stay in one minimal valley (fig. 1)', 'section 2.1.1, fig. 1', {
  small: { seeds: 4 },
  paper: CIFAR_RESNET,
  'paper-vgg16': { ...CIFAR_RESNET, model: 'vgg16-bn' },
});

export const fig3 = family(
  'fig3',
  'The Hessian trace decreases along projected SGD paths (fig. 3)',
  'section 4.3, fig. 3',
  {
    small: { seeds: 4 },
    paper: CIFAR_RESNET,
    'paper-vgg16': { ...CIFAR_RESNET, model: 'vgg16-bn' },
  },
);

export const fig4a = family(
  'fig4a',
  'Projected paths and trace on DenseNet-BC, CIFAR-100 (fig. 4a)',
  'appendix A.2, fig. 4(a)',
  {
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
    paper: { ...CIFAR_RESNET, model: 'densenet-bc', dataset: 'cifar100', batch: 512, threshold: 0.8, margin: 0.02 },
  },
);

export const fig4bc = family(
  'fig4bc',
  'SGD escapes a badly generalizing minimum along a connected valley (fig. 4b, 4c)',
  'appendix A.2, fig. 4(b), 4(c)',
  {
    small: {
      start: 'bad-minimum',
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
      threshold: 0.55,
      margin: 0.01,
      badEpochs: 150,
      badGdSteps: 5000,
    },
    'paper-resnet18': {
      ...CIFAR_RESNET,
      start: 'bad-minimum',
      samples: 40000,
      corruptSamples: 10000,
      badEpochs: 150,
      badGdSteps: 5000,
    },
  },
);
