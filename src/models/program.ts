import { ShapeBuilder, type Builder, type Shape } from './builder';
import type { Model } from './model';

/**
 * The recording builder: run on a {@link RecordingBuilder}, a network written against
 * {@link Builder} yields a {@link ProgramSpec}, a list of layer ops over numbered values that the
 * torch addon compiles into a native program (src/engine/torch/program.cc) and runs with
 * libtorch's own operators and autograd. The spec keeps the tfjs {@link TensorBuilder}'s exact
 * semantics: parameters are the model's flat vector in its order and tfjs layouts (dense
 * [in, out], convolutions HWIO), 'same' padding is tfjs's (the extra row and column of an even
 * input under stride 2 go at the bottom and right), flattening reads images in HWC order. The
 * native side may run NCHW inside; every number it computes is the tfjs path's to float32
 * rounding (test/unit/torch-native.test.ts).
 */

/** One op. Value 0 is the input; op i produces value i + 1. */
export interface ProgramOp {
  op:
    | 'dense'
    | 'conv'
    | 'batchNorm'
    | 'relu'
    | 'softplus'
    | 'maxPool2'
    | 'avgPool'
    | 'globalAvgPool'
    | 'flatten'
    | 'add'
    | 'concat';
  /** Values read, by number. */
  inputs: number[];
  /**
   * dense: weight, bias (parameter indices; -1: none). conv: weight, bias, stride, pad top,
   * bottom, left, right. batchNorm: gamma, beta. avgPool: size. Others: none.
   */
  nums: number[];
}

/** A network as the addon compiles it. */
export interface ProgramSpec {
  /** Per-sample input shape in tfjs layout: [H, W, C] or [features]. */
  inputShape: number[];
  classes: number;
  /** Every parameter in flat-vector order, with its tfjs shape. */
  params: number[][];
  ops: ProgramOp[];
  /** The value holding the logits [batch, classes]. */
  output: number;
  /**
   * Run with libtorch's autograd even where the addon has hand-written kernels (MLPs): tests
   * compare the two.
   */
  autograd?: boolean;
}

/** A value during recording: its number and per-sample tfjs shape. */
export interface Value extends Shape {
  id: number;
}

/** tfjs's padding for `same` (conv_util.getPadAndOutInfo): the odd one goes after. */
function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + kernel - size);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Records a network's forward pass as a {@link ProgramSpec}; shapes and checks come from {@link ShapeBuilder}. */
export class RecordingBuilder implements Builder<Value> {
  readonly ops: ProgramOp[] = [];
  private readonly shapes = new ShapeBuilder();
  private readonly index: Map<string, number>;

  constructor(
    paramNames: string[],
    /** The smooth twin: softplus for ReLU and average for max pooling, as {@link TensorBuilder}'s. */
    private readonly smooth: boolean,
  ) {
    this.index = new Map(paramNames.map((n, i) => [n, i]));
  }

  private param(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`missing parameter ${name}`);
    return i;
  }

  private emit(op: ProgramOp['op'], inputs: Value[], nums: number[], shape: Shape): Value {
    this.ops.push({ op, inputs: inputs.map((v) => v.id), nums });
    return { id: this.ops.length, dims: shape.dims };
  }

  dense(name: string, x: Value, units: number, opts: { bias?: boolean } = {}): Value {
    const out = this.shapes.dense(name, x, units, opts);
    const bias = opts.bias === false ? -1 : this.param(`${name}.bias`);
    return this.emit('dense', [x], [this.param(`${name}.weight`), bias], out);
  }

  conv(
    name: string,
    x: Value,
    filters: number,
    kernel: number,
    opts: { stride?: number; padding?: 'same' | 'valid' | number; bias?: boolean } = {},
  ): Value {
    const out = this.shapes.conv(name, x, filters, kernel, opts);
    const stride = opts.stride ?? 1,
      padding = opts.padding ?? 'same';
    const [h, w] = x.dims as [number, number, number];
    let pads = [0, 0, 0, 0];
    if (typeof padding === 'number') pads = [padding, padding, padding, padding];
    else if (padding === 'same') pads = [...samePadding(h, kernel, stride), ...samePadding(w, kernel, stride)];
    const bias = opts.bias === false ? -1 : this.param(`${name}.bias`);
    return this.emit('conv', [x], [this.param(`${name}.weight`), bias, stride, ...pads], out);
  }

  batchNorm(name: string, x: Value): Value {
    const out = this.shapes.batchNorm(name, x);
    return this.emit('batchNorm', [x], [this.param(`${name}.gamma`), this.param(`${name}.beta`)], out);
  }

  act(x: Value): Value {
    return this.emit(this.smooth ? 'softplus' : 'relu', [x], [], x);
  }

  maxPool2(x: Value): Value {
    if (this.smooth) return this.avgPool(x, 2);
    return this.emit('maxPool2', [x], [], this.shapes.maxPool2(x));
  }

  avgPool(x: Value, size: number): Value {
    return this.emit('avgPool', [x], [size], this.shapes.avgPool(x, size));
  }

  globalAvgPool(x: Value): Value {
    return this.emit('globalAvgPool', [x], [], this.shapes.globalAvgPool(x));
  }

  flatten(x: Value): Value {
    return this.emit('flatten', [x], [], this.shapes.flatten(x));
  }

  add(a: Value, b: Value): Value {
    return this.emit('add', [a, b], [], this.shapes.add(a, b));
  }

  concat(xs: Value[]): Value {
    return this.emit('concat', xs, [], this.shapes.concat(xs));
  }
}

/** The program of `model` (its smooth twin with `smooth`). */
export function recordProgram(model: Model, smooth: boolean): ProgramSpec {
  const b = new RecordingBuilder(
    model.params.map((p) => p.name),
    smooth,
  );
  const out = model.network(b, { id: 0, dims: model.inputShape });
  if (out.dims.length !== 1 || out.dims[0] !== model.numClasses)
    throw new Error(`${model.name}: network ends in [${out.dims}], expected [${model.numClasses}]`);
  return {
    inputShape: [...model.inputShape],
    classes: model.numClasses,
    params: model.params.map((p) => [...p.shape]),
    ops: b.ops,
    output: out.id,
  };
}
