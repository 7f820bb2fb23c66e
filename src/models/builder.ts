import * as tf from '@tensorflow/tfjs';
import { oneHotFloat, softplus, stopGradient } from '../engine/second-order';

/**
 * Networks are written once against {@link Builder}. Run with a {@link ShapeBuilder} the code
 * yields the parameter list (names, shapes, fan-in) without touching tfjs; run with a
 * {@link TensorBuilder} it computes logits from a flat parameter set. So declaration and
 * forward pass cannot drift apart.
 *
 * Every op used here is exactly twice differentiable in tfjs once
 * `installSecondOrderGradients()` has run; max pooling routes through a constant one-hot mask
 * (its second derivative is 0 almost everywhere), average pooling is reshape + mean, and batch
 * norm computes its moments explicitly.
 */

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Initialization: He-normal for weights (uses fanIn), zeros for biases/shifts, ones for scales. */
  init: 'he' | 'zeros' | 'ones';
  fanIn: number;
}

export interface Builder<T> {
  dense(name: string, x: T, units: number, opts?: { bias?: boolean }): T;
  conv(
    name: string,
    x: T,
    filters: number,
    kernel: number,
    opts?: { stride?: number; padding?: 'same' | 'valid' | number; bias?: boolean },
  ): T;
  batchNorm(name: string, x: T): T;
  act(x: T): T;
  maxPool2(x: T): T;
  avgPool(x: T, size: number): T;
  globalAvgPool(x: T): T;
  flatten(x: T): T;
  add(a: T, b: T): T;
  concat(xs: T[]): T;
}

/** A network: per-sample input shape (NHWC without N, or [features]) to logits. */
export interface NetworkFn {
  <T>(b: Builder<T>, x: T): T;
}

/** Per-sample activation shape during declaration. */
export interface Shape {
  dims: number[];
}

function outSize(size: number, kernel: number, stride: number, padding: 'same' | 'valid' | number): number {
  if (padding === 'same') return Math.ceil(size / stride);
  const pad = padding === 'valid' ? 0 : padding;
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** Declaration pass: collects parameters and batch-norm layers, checks shapes. */
export class ShapeBuilder implements Builder<Shape> {
  readonly params: ParamSpec[] = [];
  readonly batchNorms: Array<{ name: string; channels: number }> = [];

  private add_(spec: ParamSpec): void {
    if (this.params.some((p) => p.name === spec.name)) throw new Error(`duplicate parameter ${spec.name}`);
    this.params.push(spec);
  }

  dense(name: string, x: Shape, units: number, opts: { bias?: boolean } = {}): Shape {
    if (x.dims.length !== 1) throw new Error(`${name}: dense needs a flat input, got [${x.dims}]`);
    const fanIn = x.dims[0]!;
    this.add_({ name: `${name}.weight`, shape: [fanIn, units], init: 'he', fanIn });
    if (opts.bias !== false) this.add_({ name: `${name}.bias`, shape: [units], init: 'zeros', fanIn });
    return { dims: [units] };
  }

  conv(
    name: string,
    x: Shape,
    filters: number,
    kernel: number,
    opts: { stride?: number; padding?: 'same' | 'valid' | number; bias?: boolean } = {},
  ): Shape {
    const [h, w, c] = x.dims as [number, number, number];
    const stride = opts.stride ?? 1,
      padding = opts.padding ?? 'same';
    const fanIn = kernel * kernel * c;
    this.add_({ name: `${name}.weight`, shape: [kernel, kernel, c, filters], init: 'he', fanIn });
    if (opts.bias !== false) this.add_({ name: `${name}.bias`, shape: [filters], init: 'zeros', fanIn });
    return { dims: [outSize(h, kernel, stride, padding), outSize(w, kernel, stride, padding), filters] };
  }

  batchNorm(name: string, x: Shape): Shape {
    const c = x.dims[x.dims.length - 1]!;
    this.add_({ name: `${name}.gamma`, shape: [c], init: 'ones', fanIn: 1 });
    this.add_({ name: `${name}.beta`, shape: [c], init: 'zeros', fanIn: 1 });
    this.batchNorms.push({ name, channels: c });
    return x;
  }

  act(x: Shape): Shape {
    return x;
  }
  maxPool2(x: Shape): Shape {
    return this.avgPool(x, 2);
  }
  avgPool(x: Shape, size: number): Shape {
    const [h, w, c] = x.dims as [number, number, number];
    if (h % size || w % size)
      throw new Error(`pooling ${size}×${size} needs sides divisible by ${size}, got ${h}×${w}`);
    return { dims: [h / size, w / size, c] };
  }
  globalAvgPool(x: Shape): Shape {
    return { dims: [x.dims[2]!] };
  }
  flatten(x: Shape): Shape {
    return { dims: [x.dims.reduce((a, b) => a * b, 1)] };
  }
  add(a: Shape, b: Shape): Shape {
    if (a.dims.join() !== b.dims.join()) throw new Error(`add: shapes [${a.dims}] and [${b.dims}] differ`);
    return a;
  }
  concat(xs: Shape[]): Shape {
    const first = xs[0]!.dims;
    return { dims: [...first.slice(0, -1), xs.reduce((s, x) => s + x.dims[x.dims.length - 1]!, 0)] };
  }
}

/** Batch-norm moments of one layer. */
export interface Moments {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** How batch norm normalizes: with the batch's own moments, or with given (recomputed) ones. */
export type BatchNormMode =
  { mode: 'batch'; record?: Map<string, Moments> } | { mode: 'fixed'; stats: Map<string, Moments> };

export const BN_EPSILON = 1e-5;

/** Forward pass on tensors with parameters looked up by name. */
export class TensorBuilder implements Builder<tf.Tensor> {
  constructor(
    private readonly p: Map<string, tf.Tensor>,
    private readonly bn: BatchNormMode,
    /** Softplus for ReLU and average for max pooling: a twice-differentiable twin for checks. */
    private readonly smooth: boolean,
  ) {}

  private get(name: string): tf.Tensor {
    const t = this.p.get(name);
    if (!t) throw new Error(`missing parameter ${name}`);
    return t;
  }

  dense(name: string, x: tf.Tensor, _units: number, opts: { bias?: boolean } = {}): tf.Tensor {
    const y = tf.matMul(x as tf.Tensor2D, this.get(`${name}.weight`) as tf.Tensor2D); // [batch, units]
    return opts.bias === false ? y : tf.add(y, this.get(`${name}.bias`));
  }

  conv(
    name: string,
    x: tf.Tensor,
    _filters: number,
    _kernel: number,
    opts: { stride?: number; padding?: 'same' | 'valid' | number; bias?: boolean } = {},
  ): tf.Tensor {
    const stride = opts.stride ?? 1;
    let input = x as tf.Tensor4D;
    let padding: 'same' | 'valid' = 'valid';
    if (typeof opts.padding === 'number') {
      input = tf.pad(input, [
        [0, 0],
        [opts.padding, opts.padding],
        [opts.padding, opts.padding],
        [0, 0],
      ]);
    } else {
      padding = opts.padding ?? 'same';
    }
    const y = tf.conv2d(input, this.get(`${name}.weight`) as tf.Tensor4D, stride, padding); // [batch, h, w, filters]
    return opts.bias === false ? y : tf.add(y, this.get(`${name}.bias`));
  }

  batchNorm(name: string, x: tf.Tensor): tf.Tensor {
    const axes = x.rank === 4 ? [0, 1, 2] : [0];
    let mean: tf.Tensor, variance: tf.Tensor;
    if (this.bn.mode === 'batch') {
      mean = tf.mean(x, axes);
      variance = tf.mean(tf.square(tf.sub(x, mean)), axes);
      this.bn.record?.set(name, {
        mean: tf.keep(stopGradient(mean)) as tf.Tensor1D,
        variance: tf.keep(stopGradient(variance)) as tf.Tensor1D,
      });
    } else {
      const m = this.bn.stats.get(name);
      if (!m) throw new Error(`no batch-norm statistics for ${name}`);
      ({ mean, variance } = m);
    }
    const normalized = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, BN_EPSILON)));
    return tf.add(tf.mul(normalized, this.get(`${name}.gamma`)), this.get(`${name}.beta`));
  }

  act(x: tf.Tensor): tf.Tensor {
    return this.smooth ? softplus(x) : tf.relu(x);
  }

  maxPool2(x: tf.Tensor): tf.Tensor {
    if (this.smooth) return this.avgPool(x, 2);
    const [n, h, w, c] = x.shape as [number, number, number, number];
    // [n, h/2, 2, w/2, 2, c] → [n, h/2, w/2, c, 4]; the arg-max mask is a constant.
    const windows = tf.reshape(tf.transpose(tf.reshape(x, [n, h / 2, 2, w / 2, 2, c]), [0, 1, 3, 5, 2, 4]), [
      n,
      h / 2,
      w / 2,
      c,
      4,
    ]);
    const mask = stopGradient(oneHotFloat(tf.argMax(windows, -1), 4));
    return tf.sum(tf.mul(windows, mask), -1);
  }

  avgPool(x: tf.Tensor, size: number): tf.Tensor {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    return tf.mean(tf.reshape(x, [n, h / size, size, w / size, size, c]), [2, 4]);
  }

  globalAvgPool(x: tf.Tensor): tf.Tensor {
    return tf.mean(x, [1, 2]);
  }

  flatten(x: tf.Tensor): tf.Tensor {
    return tf.reshape(x, [x.shape[0]!, -1]);
  }

  add(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.add(a, b);
  }

  concat(xs: tf.Tensor[]): tf.Tensor {
    return tf.concat(xs, -1);
  }
}
