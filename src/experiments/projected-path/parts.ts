import type { PathParams } from './params';

/**
 * A projected-path run's parameters mapped once into the parts each stage needs. Stages get
 * their parts, not the whole bag, and {@link stageIdentity} derives every cache key from the
 * parts a stage depends on: a new setting goes into one part and reaches every key that needs it.
 */
export interface PathParts {
  /** The data and loss every evaluation uses. */
  objective: {
    model: string;
    dataset: PathParams['dataset'];
    samples: number;
    valSamples: number;
    smoothing: number;
  };
  /** The optimizer shared by SGD training, replays and GD projections. */
  sgd: { lr: number; momentum: number; dampening: number; weightDecay: number };
  /** What makes SGD stochastic: mini-batches and augmentation (pure functions of seed and step). */
  sampling: { batch: number; augment: boolean };
  /** Full-batch GD until the training loss is below `target` (threshold − margin), at most `cap` steps. */
  projection: { target: number; cap: number; checkpointEvery: number };
  /** Line-connectedness: loss below `threshold` at `points` evenly spaced points. */
  line: { threshold: number; points: number };
  /** Hessian trace estimates (XTrace with `probes` HVPs). */
  trace: { probes: number };
  /** fig4bc's start at a bad minimum (null: fresh weights). */
  badStart: { corruptSamples: number; epochs: number; gdSteps: number } | null;
}

export function pathParts(p: PathParams): PathParts {
  return {
    objective: {
      model: p.model,
      dataset: p.dataset,
      samples: p.samples,
      valSamples: p.valSamples,
      smoothing: p.smoothing,
    },
    sgd: { lr: p.lr, momentum: p.momentum, dampening: p.dampening, weightDecay: p.weightDecay },
    sampling: { batch: p.batch, augment: p.augment },
    projection: {
      target: p.threshold - p.margin,
      cap: p.projectionSteps,
      checkpointEvery: p.projectionCheckpointEvery,
    },
    line: { threshold: p.threshold, points: p.linePoints },
    trace: { probes: p.probes },
    badStart:
      p.start === 'bad-minimum'
        ? { corruptSamples: p.corruptSamples, epochs: p.badEpochs, gdSteps: p.badGdSteps }
        : null,
  };
}

export type PathStage = 'start' | 'train' | 'replay' | 'project' | 'line' | 'trace' | 'segment';

/** The parts each stage's answer depends on (execution settings such as checkpoint spacing excluded). */
const DEPENDS: Record<PathStage, ReadonlyArray<keyof PathParts>> = {
  start: ['objective', 'sgd', 'sampling', 'badStart'],
  train: ['objective', 'sgd', 'sampling'],
  replay: ['objective', 'sgd', 'sampling'],
  project: ['objective', 'sgd', 'projection'],
  line: ['objective', 'line'],
  trace: ['objective', 'trace'],
  segment: ['objective', 'sgd', 'sampling', 'projection', 'line'],
};

/**
 * Everything that decides a stage's answer: its parts, the content hashes and numbers of its
 * inputs, the code that computes it and the numeric backend that runs it (backends agree only
 * to ~1e-5, and a trajectory replayed on another backend leaves the original one).
 */
export function stageIdentity(
  stage: PathStage,
  parts: PathParts,
  inputs: Record<string, unknown>,
  env: { code: string; backend: string },
): unknown {
  const used = Object.fromEntries(
    DEPENDS[stage].map((k) => {
      const part = parts[k];
      // Checkpoint spacing changes where a projection can resume, never its answer.
      return [k, k === 'projection' ? { target: parts.projection.target, cap: parts.projection.cap } : part];
    }),
  );
  return { stage, ...used, inputs, code: env.code, backend: env.backend };
}
