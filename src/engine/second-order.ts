import * as tf from '@tensorflow/tfjs';

/**
 * Exact second derivatives in tfjs (4.22).
 *
 * Double backprop (the gradient of a gradient) is how we form Hessian-vector products, and stock
 * tfjs gets it wrong in two ways: gradients that reuse an op's saved *output* (Exp, Tanh,
 * Sigmoid) cannot be differentiated again, and `Conv2DBackpropFilter` (the filter gradient of
 * every convolution) has no gradient at all. We register replacements that recompute from the
 * op's *input* a gradient for the filter backprop, and zero gradients for comparisons (Equal has none),
 * once per process. Everything else our
 * models use (matMul, conv2d, add/mul/div, sqrt, log, relu, slice/concat/reshape, mean/sum) is
 * already exact; tests compare HVPs against finite differences and a float64 reference.
 */
let installed = false;

export function installSecondOrderGradients(): void {
  if (installed) return;
  installed = true;
  // registerGradient warns on every override; these overrides are deliberate.
  const register = (config: tf.GradConfig): void => {
    const warn = console.warn;
    console.warn = () => {};
    try {
      tf.registerGradient(config);
    } finally {
      console.warn = warn;
    }
  };
  register({ kernelName: 'Exp', inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy as tf.Tensor, tf.exp(x!)) }) });
  register({
    kernelName: 'Tanh', inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy as tf.Tensor, tf.sub(1, tf.square(tf.tanh(x!)))) }),
  });
  register({
    kernelName: 'Sigmoid', inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => { const s = tf.sigmoid(x!); return tf.mul(dy as tf.Tensor, tf.mul(s, tf.sub(1, s))); } }),
  });
  // Comparisons are piecewise constant: zero gradient. Max's gradient builds its mask with
  // Equal, so without this no second derivative can pass through a max.
  for (const kernelName of ['Equal', 'NotEqual', 'Greater', 'Less', 'LessEqual']) {
    register({ kernelName, inputsToSave: ['a', 'b'], gradFunc: (_dy, [a, b]) => ({ a: () => tf.zerosLike(a!), b: () => tf.zerosLike(b!) }) });
  }
  // dW = conv2DBackpropFilter(x, dy) is bilinear in (x, dy); its adjoints are the transposed
  // convolution of dy with the incoming filter gradient, and the convolution of x with it.
  register({
    kernelName: 'Conv2DBackpropFilter', inputsToSave: ['x', 'dy'],
    gradFunc: (ddw, [x, dy], attrs) => {
      const { strides, pad, dimRoundingMode } = attrs as unknown as { strides: [number, number]; pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
      const x4 = x as tf.Tensor4D, dy4 = dy as tf.Tensor4D, w = ddw as tf.Tensor4D;
      return {
        x: () => tf.conv2dTranspose(dy4, w, x4.shape, strides, pad as 'same' | 'valid', dimRoundingMode),
        dy: () => tf.conv2d(x4, w, strides, pad as 'same' | 'valid', 'NHWC', 1, dimRoundingMode),
      };
    },
  });
}

/** Identity forward, zero gradient: for quantities whose derivative is mathematically 0. */
export const stopGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)],
})) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/** log Σ exp along the last axis, with the max shift held constant (its derivative is 0). */
export function logSumExp(z: tf.Tensor): tf.Tensor {
  const m = stopGradient(tf.max(z, -1, true));
  return tf.add(tf.squeeze(m, [-1]), tf.log(tf.sum(tf.exp(tf.sub(z, m)), -1)));
}

/** Softplus log(1 + eˣ) written with exactly twice-differentiable ops (stable for large |x|). */
export function softplus(x: tf.Tensor): tf.Tensor {
  return tf.add(tf.relu(x), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
}

/**
 * One-hot rows as float32. Not `tf.oneHot(..., 'float32')`: tfjs-wasm 4.22 writes the integer
 * bit pattern of 1 into the float buffer there (1.4e-45 instead of 1.0). Built as int32 and cast.
 */
export function oneHotFloat(indices: tf.Tensor, depth: number): tf.Tensor {
  return tf.cast(tf.oneHot(indices as tf.Tensor1D, depth), 'float32');
}
