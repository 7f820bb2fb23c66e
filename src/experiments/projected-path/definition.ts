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
  description: 'Train with SGD; project epoch-boundary states to minima by full-batch GD; bisect until consecutive minima are line-connected; estimate the trace along the path for each seed.',
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
    { name: 'threshold', kind: 'number', default: 0.6, description: 'training loss below which a state is a minimum (label-smoothed CE has a floor: 0.50 for 10 classes, s = 0.1)', above: 0 },
    { name: 'margin', kind: 'number', default: 0.02, description: 'projections stop below threshold − margin; line checks test the threshold (0 leaves both ends of a segment on the sublevel set\'s boundary, and the path breaks)', min: 0 },
    { name: 'settleEpochs', kind: 'int', default: 1, description: 'the path-connected claim counts pairs from this epoch on (the paper: "after a few epochs"); earlier breaks are still reported per seed', min: 0 },
    { name: 'projectionSteps', kind: 'int', default: 3000, description: 'cap on GD steps per projection', min: 1 },
    { name: 'projectionCheckpointEvery', kind: 'int', default: 100, description: 'checkpoint a projection in progress every K GD steps', min: 1 },
    { name: 'linePoints', kind: 'int', default: 10, description: 'points of the line-connectedness check', min: 2 },
    { name: 'probes', kind: 'int', default: 30, description: 'HVPs per trace estimate (XTrace)', min: 4 },
    { name: 'traceStride', kind: 'int', default: 1, description: 'trace at every k-th path point', min: 1 },
    { name: 'checkpointEvery', kind: 'int', default: 0, description: 'extra checkpoints every K iterations (0: epochs only)', min: 0 },
  ],
  presets: {
    default: {},
    small: { seeds: 4 },
    paper: {
      model: 'preact-resnet18', dataset: 'cifar10', samples: 0, valSamples: 0, epochs: 150, seeds: 10, lr: 0.1, momentum: 0.9,
      batch: 500, augment: true, threshold: 0.55, margin: 0.01, projectionSteps: 20000, projectionCheckpointEvery: 20, probes: 100, traceStride: 10, checkpointEvery: 25,
    },
  },
  validate(params: Params): void {
    const p = params as unknown as PipelineParams;
    if (!/^(mlp:\d+(-\d+)+|small-cnn|convnet4|preact-resnet18|vgg16-bn|densenet-bc)(:\d+)?$/.test(p.model)) {
      throw new ParamError(`--set model=${p.model}: use mlp:IN-...-OUT, small-cnn, convnet4, preact-resnet18, vgg16-bn or densenet-bc`);
    }
    if (!['mnist', 'cifar10', 'cifar100'].includes(p.dataset)) throw new ParamError(`--set dataset=${p.dataset}: use mnist, cifar10 or cifar100`);
    if (!p.model.startsWith('mlp:') && p.dataset === 'mnist') {
      throw new ParamError(`--set model=${p.model} takes 32×32 colour images: use --set dataset=cifar10 or cifar100 (or an mlp:... model with mnist)`);
    }
    if (p.margin >= p.threshold) throw new ParamError(`--set margin=${p.margin} must be below threshold=${p.threshold} (projections stop below threshold − margin)`);
    if (p.samples !== 0 && p.batch > p.samples) throw new ParamError(`--set batch=${p.batch} is larger than samples=${p.samples}`);
  },
};
