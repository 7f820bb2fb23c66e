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
  register({
    kernelName: 'Exp',
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy as tf.Tensor, tf.exp(x!)) }),
  });
  register({
    kernelName: 'Tanh',
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy as tf.Tensor, tf.sub(1, tf.square(tf.tanh(x!)))) }),
  });
  register({
    kernelName: 'Sigmoid',
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({
      x: () => {
        const s = tf.sigmoid(x!);
        return tf.mul(dy as tf.Tensor, tf.mul(s, tf.sub(1, s)));
      },
    }),
  });
  // Comparisons are piecewise constant: zero gradient. Max's gradient builds its mask with
  // Equal, so without this no second derivative can pass through a max.
  for (const kernelName of ['Equal', 'NotEqual', 'Greater', 'Less', 'LessEqual']) {
    register({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy, [a, b]) => ({ a: () => tf.zerosLike(a!), b: () => tf.zerosLike(b!) }),
    });
  }
  // OneHot's stock gradient is zeros(indices.shape), built in JavaScript and uploaded: max
  // pooling's constant mask sends one through each pool on every backward pass. A Fill kernel
  // makes the same +0s on the device.
  register({
    kernelName: 'OneHot',
    inputsToSave: ['indices'],
    gradFunc: (_dy, [indices]) => ({ indices: () => tf.fill(indices!.shape, 0, 'float32') }),
  });
  // Sum's and Mean's stock gradients multiply by ones(x.shape), an array built in JavaScript and
  // uploaded on every backward pass (on torch-cuda, most of a VGG training step's time); onesLike
  // is a kernel on the device, and the values are the same (a product with 1 is exact).
  const spread = (dy: tf.Tensor, x: tf.Tensor, axis: unknown): tf.Tensor => {
    const shape = [...x.shape];
    for (const a of tf.util.parseAxisParam(axis as number | number[], x.shape)) shape[a] = 1;
    return tf.mul(tf.reshape(dy, shape), tf.onesLike(x));
  };
  register({
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => ({ x: () => spread(dy as tf.Tensor, x!, attrs.axis) }),
  });
  register({
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x!.shape);
      const count = axes.reduce((n, a) => n * x!.shape[a]!, 1);
      return { x: () => tf.div(spread(dy as tf.Tensor, x!, axes), count) };
    },
  });
  // Conv2D's filter gradient as a forward convolution of the transposed input with the
  // transposed output gradient: the JS backend's Conv2DBackpropFilter
  // reads every element through TensorBuffer.get and took 90% of a small CNN's training step.
  register({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, [x, filter], attrs) => {
      const a = attrs as unknown as Conv2DAttrs;
      const x4 = x as tf.Tensor4D,
        w4 = filter as tf.Tensor4D,
        dy4 = dy as tf.Tensor4D;
      return {
        x: () => tf.conv2dTranspose(dy4, w4, x4.shape, a.strides, a.pad as 'same' | 'valid', a.dimRoundingMode),
        filter: () => filterGradient(x4, dy4, w4.shape, a),
      };
    },
  });
  // dx = conv2DBackpropInput(dy, W) (the transposed convolution): its filter adjoint is the same
  // filter gradient, with the incoming gradient in the place of the input.
  register({
    kernelName: 'Conv2DBackpropInput',
    inputsToSave: ['dy', 'filter'],
    gradFunc: (ddx, [dy, filter], attrs) => {
      const a = attrs as unknown as Conv2DAttrs;
      const dx4 = ddx as tf.Tensor4D,
        dy4 = dy as tf.Tensor4D,
        w4 = filter as tf.Tensor4D;
      return {
        dy: () => tf.conv2d(dx4, w4, a.strides, a.pad as 'same' | 'valid', 'NHWC', 1, a.dimRoundingMode),
        filter: () => filterGradient(dx4, dy4, w4.shape, a),
      };
    },
  });
  // dW = conv2DBackpropFilter(x, dy) is bilinear in (x, dy); its adjoints are the transposed
  // convolution of dy with the incoming filter gradient, and the convolution of x with it.
  register({
    kernelName: 'Conv2DBackpropFilter',
    inputsToSave: ['x', 'dy'],
    gradFunc: (ddw, [x, dy], attrs) => {
      const { strides, pad, dimRoundingMode } = attrs as unknown as {
        strides: [number, number];
        pad: 'same' | 'valid' | number;
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
      };
      const x4 = x as tf.Tensor4D,
        dy4 = dy as tf.Tensor4D,
        w = ddw as tf.Tensor4D;
      return {
        x: () => tf.conv2dTranspose(dy4, w, x4.shape, strides, pad as 'same' | 'valid', dimRoundingMode),
        dy: () => tf.conv2d(x4, w, strides, pad as 'same' | 'valid', 'NHWC', 1, dimRoundingMode),
      };
    },
  });
}

interface Conv2DAttrs {
  strides: [number, number] | number;
  pad: 'same' | 'valid' | number;
  dilations?: [number, number] | number;
  dataFormat?: string;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const pair = (v: [number, number] | number | undefined): [number, number] => (Array.isArray(v) ? v : [v ?? 1, v ?? 1]);

/**
 * Backends whose own Conv2DBackpropFilter is fast (libtorch's and TensorFlow's): the forward
 * convolution below has the output gradient as a filter as large as the image, a shape cuDNN's
 * forward heuristics handle badly (training rose 1.14-1.38× on an H200 without it:
 * bench/gpu/RESULTS.md).
 */
const NATIVE_FILTER_BACKPROP = new Set(['torch', 'tensorflow']);

/**
 * ∂L/∂W[kh, kw, ci, co] = Σ_{n,h,w} x[n, s·h + kh − p, s·w + kw − p, ci] · dy[n, h, w, co]: a
 * valid convolution over the padded input with batch and channel axes swapped, the output
 * gradient as its filter. Made of pad, transpose and conv2d, whose own
 * gradients are exact, so second derivatives pass through it.
 */
function filterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  shape: [number, number, number, number],
  a: Conv2DAttrs,
): tf.Tensor4D {
  const native = NATIVE_FILTER_BACKPROP.has(tf.getBackend());
  if (native || (a.dataFormat ?? 'NHWC') !== 'NHWC' || pair(a.dilations).some((d) => d !== 1)) {
    const attrs = {
      strides: a.strides,
      pad: a.pad,
      dataFormat: 'NHWC',
      dimRoundingMode: a.dimRoundingMode,
      filterShape: shape,
    } as unknown as tf.NamedAttrMap;
    return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor4D;
  }
  const [sh, sw] = pair(a.strides);
  const [kh, kw] = shape;
  const [, h, w] = x.shape;
  const [n, ho, wo, co] = dy.shape;
  const padding = (size: number, out: number, k: number, s: number): [number, number] => {
    if (a.pad === 'valid') return [0, 0];
    if (typeof a.pad === 'number') return [a.pad, a.pad];
    const total = Math.max((out - 1) * s + k - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const [pt, pb] = padding(h, ho, kh, sh),
    [pl, pr] = padding(w, wo, kw, sw);
  const xp =
    pt + pb + pl + pr > 0
      ? tf.pad(x, [
          [0, 0],
          [pt, pb],
          [pl, pr],
          [0, 0],
        ])
      : x;
  // A stride s becomes s − 1 zeros between the output gradient's rows and columns (a dilation
  // would do the same, but tfjs cannot differentiate a dilated convolution).
  let g: tf.Tensor4D = dy;
  if (sh > 1) {
    const spread = tf.pad(tf.reshape(g, [n, ho, 1, wo * co]), [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
    ]);
    g = tf.reshape(spread, [n, ho * sh, wo, co]);
    g = tf.slice(g, [0, 0, 0, 0], [n, (ho - 1) * sh + 1, wo, co]);
  }
  if (sw > 1) {
    const rows = g.shape[1];
    const spread = tf.pad(tf.reshape(g, [n * rows, wo, 1, co]), [
      [0, 0],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    g = tf.reshape(spread, [n, rows, wo * sw, co]);
    g = tf.slice(g, [0, 0, 0, 0], [n, rows, (wo - 1) * sw + 1, co]);
  }
  const r = tf.conv2d(tf.transpose(xp, [3, 1, 2, 0]), tf.transpose(g, [1, 2, 0, 3]), 1, 'valid');
  const cropped = r.shape[1] === kh && r.shape[2] === kw ? r : tf.slice(r, [0, 0, 0, 0], [-1, kh, kw, -1]);
  return tf.transpose(cropped, [1, 2, 0, 3]);
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
