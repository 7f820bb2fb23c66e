import { buildModel } from '../../models/model';
import { bool, choice, int, num, numOrAuto, ParamError, paramSet, text, type ParamsOf } from '../params';

/** The projected-path engine's parameters, declared once; every figure over it shares them. */
export const pathParams = paramSet({
  model: text('mlp:196-30-10', 'model (see repro hessian --help)'),
  dataset: choice(['mnist', 'cifar10', 'cifar100'] as const, 'mnist', 'data set'),
  /** Training samples (a seeded subset; 0 = the whole training split). */
  samples: int(500, 'training samples (0: all)', { min: 0 }),
  /** Validation samples from the test split (0 = all of it). */
  valSamples: int(500, 'validation samples (0: all)', { min: 0 }),
  epochs: int(5, 'SGD epochs', { min: 1, large: 10000 }),
  seeds: int(10, 'independent initializations', { min: 1, large: 1000 }),
  lr: num(0.1, 'learning rate', { above: 0 }),
  momentum: num(0.9, 'momentum μ', { min: 0 }),
  dampening: num(0, 'dampening ν', { min: 0 }),
  weightDecay: num(0, 'weight decay', { min: 0 }),
  batch: int(50, 'mini-batch size', { min: 1 }),
  smoothing: num(0.1, 'label smoothing', { min: 0 }),
  augment: bool(false, 'standard CIFAR augmentation'),
  /**
   * A state is a minimum when its training loss is below this; line checks test it at every point.
   * `auto` is the paper's rule (section 2.1.1): each seed's own minimal SGD training loss, the lowest
   * full-batch training loss of its epoch-boundary states after the first epoch.
   */
  threshold: numOrAuto(
    'auto',
    "training loss below which a state is a minimum; auto: the seed's own minimal SGD training loss " +
      '(the paper); a number is a substitution',
    { above: 0 },
  ),
  /** Projections run GD until the loss is below threshold − margin: the paper's 0 (a margin is a substitution). */
  margin: num(
    0,
    'projections stop below threshold − margin; line checks test the threshold (the paper: 0, both ends of a ' +
      'segment just inside the sublevel set; a margin gives segments room and is a substitution)',
    { min: 0 },
  ),
  /**
   * The path is claimed connected from this epoch on (the paper: "after a few epochs"); earlier breaks are reported.
   */
  settleEpochs: int(
    1,
    'the path-connected claim counts pairs from this epoch on (the paper: "after a few epochs"); earlier breaks ' +
      'are still reported per seed',
    { min: 0 },
  ),
  /** Cap on full-batch GD steps of one projection. */
  projectionSteps: int(3000, 'cap on GD steps per projection', { min: 1, large: 1e6 }),
  /** A projection in progress is checkpointed every K GD steps. */
  projectionCheckpointEvery: int(100, 'checkpoint a projection in progress every K GD steps', { min: 1 }),
  /** Evaluation points of the line-connectedness check. */
  linePoints: int(10, 'points of the line-connectedness check', { min: 2, large: 1000 }),
  /** Hessian-vector products per trace estimate (XTrace). */
  probes: int(30, 'HVPs per trace estimate (XTrace)', { min: 4, large: 10000 }),
  /** Estimate the trace at every k-th point of the path. */
  traceStride: int(1, 'trace at every k-th path point', { min: 1 }),
  /** Extra checkpoints every K iterations inside an epoch (0: epoch boundaries only). */
  checkpointEvery: int(0, 'extra checkpoints every K iterations (0: epochs only)', { min: 0 }),
  /**
   * Where SGD starts: `init` (fresh weights), or `bad-minimum` (fig4bc: a minimum that also fits
   * `corruptSamples` extra samples with shuffled labels, then GD on the clean samples alone).
   */
  start: choice(
    ['init', 'bad-minimum'] as const,
    'init',
    'init, or bad-minimum (fig4bc: start at a minimum that memorized shuffled labels)',
  ),
  corruptSamples: int(0, "bad-minimum: extra training samples with shuffled labels (the paper's set B)", { min: 0 }),
  /** SGD epochs on clean ∪ corrupt samples, then GD steps on the clean ones, to reach the bad minimum. */
  badEpochs: int(30, 'bad-minimum: SGD epochs on the clean and corrupt samples together', { min: 1, large: 10000 }),
  badGdSteps: int(500, 'bad-minimum: then GD steps on the clean samples alone', { min: 0, large: 1e6 }),
});

/** The settings of one projected-path run, as the workflow and activities see them. */
export type PathParams = ParamsOf<typeof pathParams>;

/** Training and test samples of each data set: a run asking for more would fail on its worker. */
const DATA_SIZES: Record<PathParams['dataset'], { train: number; test: number }> = {
  mnist: { train: 60000, test: 10000 },
  cifar10: { train: 50000, test: 10000 },
  cifar100: { train: 50000, test: 10000 },
};

/** Cross-parameter checks of a projected-path run. */
export function validatePath(p: PathParams): void {
  const size = DATA_SIZES[p.dataset];
  if (p.samples > size.train)
    throw new ParamError(`--set samples=${p.samples}: ${p.dataset} has ${size.train} training samples (0: all)`);
  if (p.valSamples > size.test)
    throw new ParamError(`--set valSamples=${p.valSamples}: ${p.dataset} has ${size.test} test samples (0: all)`);
  const clean = p.samples || size.train - p.corruptSamples;
  if (p.start === 'bad-minimum' && (clean < 1 || clean + p.corruptSamples > size.train))
    throw new ParamError(
      `--set corruptSamples=${p.corruptSamples}: with samples=${p.samples || 'all'}, more than the ` +
        `${size.train} training samples of ${p.dataset}; lower one of them`,
    );
  try {
    buildModel(p.model); // the one owner of the model grammar: shapes only, no weights
  } catch (err) {
    throw new ParamError(`--set model=${p.model}: ${(err as Error).message}`);
  }
  if (p.start === 'bad-minimum' && p.corruptSamples < 1)
    throw new ParamError('--set start=bad-minimum needs --set corruptSamples=N (N > 0 samples with shuffled labels)');
  if (p.threshold !== 'auto' && p.margin >= p.threshold)
    throw new ParamError(
      `--set margin=${p.margin} must be below threshold=${p.threshold} (projections stop below threshold − margin)`,
    );
  if (p.samples !== 0 && p.batch > p.samples)
    throw new ParamError(`--set batch=${p.batch} is larger than samples=${p.samples}`);
}

/** The paper's CIFAR-10 setting of figs. 1 and 3 (PreAct-ResNet18), which fig4's paper presets start from. */
export const PAPER_CIFAR_RESNET: Partial<PathParams> = {
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
  projectionSteps: 20000,
  projectionCheckpointEvery: 20,
  probes: 100,
  traceStride: 10,
  checkpointEvery: 25,
};
