import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset';
import type { LossName } from '../losses/losses';
import type { ForwardOptions, Model } from '../models/model';
import type { NoiseSpec } from '../optim/noise';
import type { SgdConfig } from '../optim/sgd';

/** Everything that determines a training trajectory besides its state. */
export interface TrainConfig {
  model: Model;
  data: Dataset;
  loss: LossName;
  smoothing: number;
  /** Mini-batch size; the data set size gives full-batch GD. */
  batchSize: number;
  sgd: SgdConfig;
  seed: number;
  /** Standard CIFAR augmentation, seeded by (seed, step). */
  augment?: boolean;
  forward?: ForwardOptions;
  /**
   * Designed gradient noise in the top-k Hessian eigenbasis. The basis used at step s is the one
   * at θ of step ⌊s / refreshEvery⌋·refreshEvery (the anchor), so the noise is a pure function of
   * (seed, step, trajectory), wherever a run was resumed.
   */
  noise?: { spec: NoiseSpec; k: number; lanczosSteps: number; refreshEvery: number };
}

/** A resumable training state: with the config, it determines every later step exactly. */
export interface TrainState {
  step: number;
  theta: Float32Array;
  velocity: Float32Array | null;
  /**
   * With designed noise, θ at the last refresh step when `step` is not itself one: the noise
   * basis of the steps up to the next refresh is computed from it.
   */
  noiseAnchor?: { step: number; theta: Float32Array };
}

/** What a caller of {@link Trainer.run} sees and decides between steps. */
export interface TrainHooks {
  /** Each step with its loss, in order; called when the losses are read (see `lossEvery`). */
  onStep?: (step: number, loss: number) => void;
  shouldStop?: () => boolean;
  yieldEvery?: number;
  /**
   * Read the losses from the device every this many steps (default 16; at least once a second):
   * `onStep` calls and the divergence check come in batches, and the device is not waited for
   * after each step.
   */
  lossEvery?: number;
  /** Sees each step's parameters, mini-batch gradient and velocity before the update (fig6's FDR observables). */
  onGradient?: (step: number, theta: Float32Array, grad: Float32Array, velocityBefore: Float32Array | null) => void;
}

export const DEFAULT_LOSS_EVERY = 16;

/** What the native training loop (./native-training.ts) asks of the {@link Trainer} it runs for. */
export interface StepSource {
  readonly cfg: TrainConfig;
  readonly stepsPerEpoch: number;
  /** The order in which `epoch` visits the samples. */
  epochOrder(epoch: number): Int32Array;
  /** The mini-batch of `step` as tensors (the caller disposes them). */
  batch(step: number): { x: tf.Tensor; y: tf.Tensor1D };
  /** The designed noise of `step` (needs the state's anchor). */
  noise(anchor: TrainState['noiseAnchor'], step: number): Promise<Float64Array>;
}
