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
    /**
     * The SHA-256 of the training and validation sets' content, once a worker has loaded them
     * (absent in the parts a run starts with): every key names the data by content, not by name,
     * so a re-imported archive never meets answers computed on the old one.
     */
    data?: string;
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

/** `parts` with the content hash of their data (see `objective.data`). */
export const withData = (parts: PathParts, data: string): PathParts => ({
  ...parts,
  objective: { ...parts.objective, data },
});

/** The run's threshold when its parameters fix one; NaN for `auto` until its training has measured it. */
export const fixedThreshold = (p: PathParams): number => (p.threshold === 'auto' ? NaN : p.threshold);

/**
 * The paper's threshold (section 2.1.1): the seed's own minimal SGD training loss, the lowest
 * full-batch training loss of its epoch-boundary states after the first (the initialization, or
 * fig4bc's bad minimum, is not a point of its SGD run).
 */
export function autoThreshold(epochLosses: ReadonlyArray<number | null>): number {
  const trained = epochLosses.slice(1).filter((l): l is number => l !== null && Number.isFinite(l));
  return trained.length ? Math.min(...trained) : NaN;
}

/**
 * The parts of a run with its threshold resolved (`fixedThreshold` or, for `auto`, the seed's
 * `autoThreshold`); before training has measured an `auto` threshold only the parts training
 * reads are meaningful (its key does not depend on the rest).
 */
export function pathParts(p: PathParams, threshold = fixedThreshold(p)): PathParts {
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
      target: threshold - p.margin,
      cap: p.projectionSteps,
      checkpointEvery: p.projectionCheckpointEvery,
    },
    line: { threshold, points: p.linePoints },
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
