import * as tf from '@tensorflow/tfjs';
import { setImmediate as yieldToEventLoop } from 'timers/promises';
import { augment, permutation } from '../data/preprocess';
import { sampleSize, type Dataset } from '../data/dataset';
import { lanczosTopEigenpairs } from '../hessian/lanczos';
import { hessianOperator } from '../hessian/hvp';
import { loss, type LossName } from '../losses/losses';
import type { ForwardOptions, Model } from '../models/model';
import { sampleNoise, type NoiseSpec } from '../optim/noise';
import { sgdStep, type SgdConfig } from '../optim/sgd';
import { DivergenceError } from './divergence';

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

export class Trainer {
  readonly stepsPerEpoch: number;
  /** The last basis computed, with the anchor it was computed at (a cache: never decides a value). */
  private eigen?: { values: number[]; vectors: Float64Array[]; anchor: { step: number; theta: Float32Array } };

  constructor(readonly cfg: TrainConfig) {
    const n = cfg.data.y.length;
    if (cfg.batchSize < 1 || cfg.batchSize > n)
      throw new RangeError(`batch size ${cfg.batchSize} must be in 1..${n} (the data set size)`);
    this.stepsPerEpoch = Math.floor(n / cfg.batchSize); // the last partial batch is dropped, as PyTorch's drop_last
  }

  /** Sample indices of the mini-batch of `step`: epoch-wise permutation from (seed, epoch). */
  batchIndices(step: number): Int32Array {
    const epoch = Math.floor(step / this.stepsPerEpoch);
    const perm = permutation(this.cfg.data.y.length, this.cfg.seed, 'data/order', epoch);
    const at = (step % this.stepsPerEpoch) * this.cfg.batchSize;
    return perm.subarray(at, at + this.cfg.batchSize);
  }

  /** The mini-batch of `step` as tensors (the caller disposes them). */
  batch(step: number): { x: tf.Tensor; y: tf.Tensor1D } {
    const d = this.cfg.data;
    const s = sampleSize(d);
    const idx = this.batchIndices(step);
    let x: Float32Array = new Float32Array(idx.length * s);
    idx.forEach((i, k) => x.set(d.x.subarray(i * s, (i + 1) * s), k * s));
    if (this.cfg.augment) x = augment(x, idx.length, d.shape, this.cfg.seed, step);
    return {
      x: tf.tensor(x, [idx.length, ...d.shape]),
      y: tf.tensor1d(
        Int32Array.from(idx, (i) => d.y[i]!),
        'int32',
      ),
    };
  }

  /**
   * Advance `state` to `untilStep`. Yields to the event loop every `yieldEvery` steps (so
   * heartbeats and cancellation get through) and stops early when `shouldStop` says so.
   */
  async run(
    state: TrainState,
    untilStep: number,
    hooks: {
      onStep?: (step: number, loss: number) => void;
      shouldStop?: () => boolean;
      yieldEvery?: number;
      /** Sees each step's parameters, mini-batch gradient and velocity before the update (fig6's FDR observables). */
      onGradient?: (step: number, theta: Float32Array, grad: Float32Array, velocityBefore: Float32Array | null) => void;
    } = {},
  ): Promise<TrainState> {
    let theta = tf.tensor1d(state.theta);
    let velocity = state.velocity ? tf.tensor1d(state.velocity) : null;
    let step = state.step;
    let anchor = state.noiseAnchor;
    try {
      while (step < untilStep) {
        if (this.cfg.noise && step % this.cfg.noise.refreshEvery === 0)
          anchor = { step, theta: Float32Array.from(await theta.data()) };
        const { x, y } = this.batch(step);
        const [lossValue, grad] = tf.tidy(() => {
          const f = (t: tf.Tensor): tf.Scalar =>
            loss(this.cfg.loss, this.cfg.model.logits(t as tf.Tensor1D, x, this.cfg.forward), y, this.cfg.smoothing);
          const { value: v, grad: g } = tf.valueAndGrad(f)(theta);
          return [v, g] as [tf.Scalar, tf.Tensor1D];
        });
        x.dispose();
        y.dispose();
        let g = grad;
        if (this.cfg.noise) {
          const xi = await this.noise(anchor, step);
          g = tf.tidy(() => tf.add(grad, tf.tensor1d(Float32Array.from(xi))));
          grad.dispose();
        }
        if (hooks.onGradient)
          hooks.onGradient(
            step,
            theta.dataSync() as Float32Array,
            g.dataSync() as Float32Array,
            velocity ? (velocity.dataSync() as Float32Array) : null,
          );
        const next = sgdStep(theta, g, velocity, this.cfg.sgd);
        g.dispose();
        theta.dispose();
        velocity?.dispose();
        theta = next.theta;
        velocity = next.velocity;
        const l = (await lossValue.data())[0]!;
        lossValue.dispose();
        if (!Number.isFinite(l))
          throw new DivergenceError(
            `training loss became ${l} at step ${step}; lower the learning rate (now ${this.cfg.sgd.lr})`,
          );
        step++;
        hooks.onStep?.(step, l);
        if (hooks.yieldEvery && step % hooks.yieldEvery === 0) await yieldToEventLoop();
        if (hooks.shouldStop?.()) break;
      }
      const out: TrainState = {
        step,
        theta: Float32Array.from(await theta.data()),
        velocity: velocity ? Float32Array.from(await velocity.data()) : null,
      };
      if (this.cfg.noise && step % this.cfg.noise.refreshEvery !== 0 && anchor) out.noiseAnchor = anchor;
      return out;
    } finally {
      theta.dispose();
      velocity?.dispose();
    }
  }

  /** Noise for `step` in the eigenbasis at the step's anchor (computed on the full batch, or reused if known). */
  private async noise(anchor: TrainState['noiseAnchor'], step: number): Promise<Float64Array> {
    const n = this.cfg.noise!;
    const at = step - (step % n.refreshEvery);
    if (!anchor || anchor.step !== at) {
      throw new Error(
        `designed noise at step ${step} needs θ of step ${at} (the state's noiseAnchor); ` +
          'resume from a state saved with it',
      );
    }
    const known = this.eigen?.anchor;
    const same =
      known &&
      known.step === at &&
      known.theta.length === anchor.theta.length &&
      known.theta.every((v, i) => v === anchor.theta[i]);
    if (!same) {
      const d = this.cfg.data;
      const batches = [{ x: tf.tensor(d.x, [d.y.length, ...d.shape]), y: tf.tensor1d(d.y, 'int32') }];
      const op = hessianOperator(
        {
          model: this.cfg.model,
          batches,
          loss: this.cfg.loss,
          smoothing: this.cfg.smoothing,
          forward: this.cfg.forward,
        },
        anchor.theta,
      );
      try {
        this.eigen = {
          ...(await lanczosTopEigenpairs(op, { k: n.k, steps: n.lanczosSteps, seed: this.cfg.seed + at })),
          anchor,
        };
      } finally {
        op.dispose();
        batches.forEach((b) => {
          b.x.dispose();
          b.y.dispose();
        });
      }
    }
    return sampleNoise(n.spec, this.eigen!, this.cfg.seed, step);
  }
}
