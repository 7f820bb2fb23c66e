import * as tf from '@tensorflow/tfjs';
import { gradientInChunks, lossAndGradientInChunks, lossInChunks, type Objective } from '../hessian/hvp';
import { sgdStep, type SgdConfig } from '../optim/sgd';
import { DivergenceError } from '../train/divergence';
import { disposeStats, recomputeBatchNormStats } from './batch-norm-stats';

/**
 * Landscape operations of the projection procedure (EXPERIMENTS.md, section 2.1.1): the training
 * loss at any weights (with batch-norm statistics recomputed for those weights), along a
 * segment, the line-connectedness predicate, and projection to a minimum by full-batch GD.
 */

/**
 * Training loss at `theta`; models with batch norm are evaluated with statistics recomputed for
 * theta. A chunk of the data at a time, yielding between chunks (heartbeats get through).
 */
export async function evaluateLoss(obj: Objective, theta: Float32Array): Promise<number> {
  const flat = tf.tensor1d(theta);
  try {
    if (!recomputesStats(obj)) return await lossInChunks(obj, flat);
    const stats = await recomputeBatchNormStats(obj.model, flat, obj.batches, obj.forward?.smoothTwin);
    try {
      return await lossInChunks({ ...obj, forward: { ...obj.forward, batchNorm: { mode: 'fixed', stats } } }, flat);
    } finally {
      disposeStats(stats);
    }
  } finally {
    flat.dispose();
  }
}

/**
 * Whether the loss at given weights needs batch-norm statistics recomputed in a pass of their own.
 * Not without batch norm, and not over a single chunk in batch mode: statistics recomputed over
 * the whole data set are then that chunk's own moments, which batch mode normalizes with (the same
 * loss, computed in one pass, natively where the model has a program: on fig4a's DenseNet a
 * recomputation on tfjs kernels cost twice the native gradient).
 */
function recomputesStats(obj: Objective): boolean {
  return obj.model.batchNorms.length > 0 && (obj.batches.length > 1 || obj.forward?.batchNorm !== undefined);
}

/** (1 − t)·a + t·b */
export function interpolate(a: Float32Array, b: Float32Array, t: number): Float32Array {
  // A plain loop: Float32Array.from with a mapping function took 9 ms for 106k parameters, 7 times
  // the loss it feeds (a line check's ten points).
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + t * (b[i]! - a[i]!);
  return out;
}

/** Loss at `points` evenly spaced points of the segment [a, b], endpoints included. */
export async function lossAlongSegment(
  obj: Objective,
  a: Float32Array,
  b: Float32Array,
  points = 10,
): Promise<number[]> {
  const losses: number[] = [];
  for (let j = 0; j < points; j++)
    losses.push(await evaluateLoss(obj, interpolate(a, b, points === 1 ? 0 : j / (points - 1))));
  return losses;
}

/**
 * The one rule for "a minimum" (the paper's footnote 3: a point with training loss less than a
 * threshold): strictly below. Projections, line checks and claims all use it.
 */
export const belowThreshold = (loss: number, threshold: number): boolean => loss < threshold;

/** Two minima are line-connected iff the loss is below the threshold at every evaluated point. */
export async function lineConnected(
  obj: Objective,
  a: Float32Array,
  b: Float32Array,
  threshold: number,
  points = 10,
): Promise<{ connected: boolean; losses: number[]; maxLoss: number }> {
  const losses = await lossAlongSegment(obj, a, b, points);
  return { connected: losses.every((l) => belowThreshold(l, threshold)), losses, maxLoss: Math.max(...losses) };
}

export interface ProjectionResult {
  theta: Float32Array;
  loss: number;
  steps: number;
  reached: boolean;
}

/** Where a projection stands: resumable from here with the same result. */
export interface ProjectionState {
  theta: Float32Array;
  velocity: Float32Array | null;
  /** GD steps taken so far. */
  steps: number;
}

export interface ProjectionOptions {
  sgd: SgdConfig;
  /** GD runs until the training loss is below this (the line threshold minus a margin, see projected-path). */
  target: number;
  maxSteps: number;
  /** Asked before every step; true ends the projection early with `stopped` set. */
  shouldStop?: () => boolean;
  /** Called every `checkpointEvery` GD steps (and on a stop) so a killed projection resumes there. */
  checkpointEvery?: number;
  onCheckpoint?: (s: ProjectionState) => Promise<void>;
  /**
   * Take the stopping test's loss from the gradient's forward pass where that is the same loss
   * (no batch norm, or batch norm over one chunk): default true; false evaluates it in a pass of
   * its own (the bench's baseline).
   */
  fusedLoss?: boolean;
}

/**
 * Project a state to a minimum: full-batch GD with the run's hyper-parameters (no noise) from
 * `theta` (and its momentum buffer) until the training loss is below `target`, at most
 * `maxSteps` steps. Resuming from a checkpointed {@link ProjectionState} gives the same result
 * as an uninterrupted projection. Yields between steps so heartbeats and cancellation get through.
 */
export async function projectToMinimum(
  obj: Objective,
  start: { theta: Float32Array; velocity: Float32Array | null; steps?: number },
  opts: ProjectionOptions,
): Promise<ProjectionResult & { stopped: boolean }> {
  let theta = tf.tensor1d(start.theta);
  let velocity = start.velocity ? tf.tensor1d(start.velocity) : null;
  const first = start.steps ?? 0;
  let steps = first;
  // Where evaluateLoss needs no recomputed statistics, the gradient's forward pass computes the
  // training loss at theta exactly as it does: one pass serves the stopping test and the step (a
  // third less work for an MLP). With batch norm over several chunks the test needs statistics
  // recomputed for theta: a pass of its own.
  const fused = (opts.fusedLoss ?? true) && !recomputesStats(obj);
  const host = async (): Promise<Float32Array> => Float32Array.from(await theta.data());
  const snapshot = async (current: Float32Array): Promise<ProjectionState> => ({
    theta: current,
    velocity: velocity ? Float32Array.from(await velocity.data()) : null,
    steps,
  });
  try {
    for (;;) {
      const at = fused
        ? await lossAndGradientInChunks(obj, theta)
        : { loss: await evaluateLoss(obj, await host()), grad: undefined };
      try {
        const { loss } = at;
        if (!Number.isFinite(loss))
          throw new DivergenceError(
            `projection diverged: loss ${loss} after ${steps} GD steps; lower the learning rate (now ${opts.sgd.lr})`,
          );
        const reached = belowThreshold(loss, opts.target);
        if (reached || steps >= opts.maxSteps) return { theta: await host(), loss, steps, reached, stopped: false };
        if (opts.shouldStop?.()) {
          const current = await host();
          await opts.onCheckpoint?.(await snapshot(current));
          return { theta: current, loss, steps, reached: false, stopped: true };
        }
        if (opts.checkpointEvery && steps > first && steps % opts.checkpointEvery === 0)
          await opts.onCheckpoint?.(await snapshot(await host()));
        const g = at.grad ?? (await gradientInChunks(obj, theta));
        const next = sgdStep(theta, g, velocity, opts.sgd);
        if (!at.grad) g.dispose();
        theta.dispose();
        velocity?.dispose();
        theta = next.theta;
        velocity = next.velocity;
        steps++;
      } finally {
        at.grad?.dispose();
      }
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    theta.dispose();
    velocity?.dispose();
  }
}
