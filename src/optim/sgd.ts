import * as tf from '@tensorflow/tfjs';

/**
 * SGD in PyTorch's semantics (torch.optim.SGD): d = g + λθ; the momentum buffer starts as d on
 * the first step, then v ← μv + (1 − ν)d; the step uses d + μv with Nesterov, else v;
 * θ ← θ − ηd. With μ = 0 this is plain (full-batch) gradient descent.
 */
export interface SgdConfig {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov?: boolean;
}

/** One update. Returns new tensors (the caller owns them); inputs are left alone. */
export function sgdStep(
  theta: tf.Tensor1D,
  grad: tf.Tensor1D,
  velocity: tf.Tensor1D | null,
  cfg: SgdConfig,
): { theta: tf.Tensor1D; velocity: tf.Tensor1D | null } {
  const out = tf.tidy(() => {
    let d: tf.Tensor = cfg.weightDecay ? tf.add(grad, tf.mul(theta, cfg.weightDecay)) : grad;
    let v: tf.Tensor | undefined;
    if (cfg.momentum !== 0) {
      v = velocity ? tf.add(tf.mul(velocity, cfg.momentum), tf.mul(d, 1 - cfg.dampening)) : tf.clone(d);
      d = cfg.nesterov ? tf.add(d, tf.mul(v, cfg.momentum)) : v;
    }
    const next = tf.sub(theta, tf.mul(d, cfg.lr));
    return v ? { theta: next, velocity: v } : { theta: next };
  }) as { theta: tf.Tensor1D; velocity?: tf.Tensor1D };
  return { theta: out.theta, velocity: out.velocity ?? null };
}
