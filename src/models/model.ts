import * as tf from '@tensorflow/tfjs';
import { installSecondOrderGradients } from '../engine/second-order';
import { CounterRng } from '../rng/philox';
import { ShapeBuilder, TensorBuilder, type BatchNormMode, type NetworkFn, type ParamSpec } from './builder';
import { denseNetBC, mlp, mnistConvNet, preactResNet18, smallCnn, vgg16bn } from './networks';

/** Options of one forward pass. */
export interface ForwardOptions {
  /** Batch norm from the batch's moments (default) or from fixed statistics. */
  batchNorm?: BatchNormMode;
  /**
   * The smooth twin: softplus instead of ReLU and average instead of max pooling, so the loss is
   * twice differentiable everywhere and Hessians can be checked by finite differences.
   */
  smoothTwin?: boolean;
}

/**
 * A network whose parameters are one flat float32 vector (the order of {@link params}), so
 * landscape operations (interpolation, projection, Hessian products) act on a single tensor.
 */
export class Model {
  readonly params: ParamSpec[];
  readonly batchNorms: Array<{ name: string; channels: number }>;
  readonly paramCount: number;
  readonly offsets: number[];

  constructor(
    readonly name: string,
    readonly inputShape: number[],
    readonly numClasses: number,
    readonly network: NetworkFn,
  ) {
    // Every model differentiates through the same gradients, whether or not a Hessian ran first in this process.
    installSecondOrderGradients();
    const shapes = new ShapeBuilder();
    const out = network(shapes, { dims: inputShape });
    if (out.dims.length !== 1 || out.dims[0] !== numClasses)
      throw new Error(`${name}: network ends in [${out.dims}], expected [${numClasses}]`);
    this.params = shapes.params;
    this.batchNorms = shapes.batchNorms;
    this.offsets = [];
    let offset = 0;
    for (const p of this.params) {
      this.offsets.push(offset);
      offset += p.shape.reduce((a, b) => a * b, 1);
    }
    this.paramCount = offset;
  }

  /** He-normal weights, zero biases, unit BN scales; a pure function of the seed. */
  init(seed: number): Float32Array {
    const flat = new Float32Array(this.paramCount);
    this.params.forEach((p, k) => {
      const size = p.shape.reduce((a, b) => a * b, 1);
      const at = this.offsets[k]!;
      if (p.init === 'ones') flat.fill(1, at, at + size);
      if (p.init !== 'he') return;
      const rng = new CounterRng(seed, `init/${p.name}`);
      const std = Math.sqrt(2 / p.fanIn);
      for (let i = 0; i < size; i += 2) {
        const [a, b] = rng.normalPair(0, i >>> 1);
        flat[at + i] = std * a;
        if (i + 1 < size) flat[at + i + 1] = std * b;
      }
    });
    return flat;
  }

  /** Views of the flat vector as named parameter tensors (differentiable: split + reshape). */
  unflatten(flat: tf.Tensor1D): Map<string, tf.Tensor> {
    const sizes = this.params.map((p) => p.shape.reduce((a, b) => a * b, 1));
    const parts = tf.split(flat, sizes);
    return new Map(this.params.map((p, i) => [p.name, tf.reshape(parts[i]!, p.shape)]));
  }

  /** Logits [batch, classes] for inputs [batch, ...inputShape]. */
  logits(flat: tf.Tensor1D, x: tf.Tensor, opts: ForwardOptions = {}): tf.Tensor2D {
    const builder = new TensorBuilder(
      this.unflatten(flat),
      opts.batchNorm ?? { mode: 'batch' },
      opts.smoothTwin ?? false,
    );
    return this.network(builder, x) as tf.Tensor2D;
  }
}

/** Default input shapes and class counts by dataset. */
export const INPUTS = {
  mnist: { shape: [28, 28, 1], classes: 10 },
  cifar10: { shape: [32, 32, 3], classes: 10 },
  cifar100: { shape: [32, 32, 3], classes: 100 },
} as const;

/**
 * Build a model by name: `mlp:196-30-10`, `small-cnn`, `convnet4`, `preact-resnet18`,
 * `vgg16-bn`, `densenet-bc`. `classes` overrides the default class count (e.g. 100). A width
 * suffix narrows the wide models with their structure unchanged: `preact-resnet18:8`,
 * `vgg16-bn:8` (base channels), `densenet-bc:4` (growth rate; `densenet-bc:4:1-2-4-3` also sets the
 * layers of its four blocks); `small-cnn:8x8x1` sets its input.
 */
export function buildModel(spec: string, classes?: number): Model {
  const at = spec.indexOf('@');
  if (at >= 0) {
    // `<model>@HxWxC`: a convolutional model on another input size (its pools and global average adapt).
    const shape = spec
      .slice(at + 1)
      .split('x')
      .map(Number);
    if (shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1))
      throw new Error(`model '${spec}': the input after '@' must be HxWxC, e.g. @8x8x1`);
    const base = buildModel(spec.slice(0, at), classes);
    if (base.inputShape.length !== 3) throw new Error(`model '${spec}': only convolutional models take an input size`);
    return new Model(spec, shape, base.numClasses, base.network);
  }
  const [kind, arg, depth] = spec.split(':');
  const width = (standard: number): number => {
    if (arg === undefined) return standard;
    const w = Number(arg);
    if (!Number.isInteger(w) || w < 1)
      throw new Error(`model '${spec}': the width after ':' must be a positive integer`);
    return w;
  };
  switch (kind) {
    case 'mlp': {
      const dims = (arg ?? '').split('-').map(Number);
      if (dims.length < 2 || dims.some((d) => !Number.isInteger(d) || d < 1))
        throw new Error(`model '${spec}': expected mlp:IN-HIDDEN...-OUT, e.g. mlp:196-30-10`);
      return new Model(spec, [dims[0]!], dims[dims.length - 1]!, mlp(dims));
    }
    case 'small-cnn': {
      // The global average pool takes any image size: `small-cnn:8x8x1` runs it on 8×8 grey images.
      const shape = arg === undefined ? [32, 32, 3] : arg.split('x').map(Number);
      if (shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1))
        throw new Error(`model '${spec}': the input after ':' must be HxWxC, e.g. small-cnn:8x8x1`);
      return new Model(spec, shape, classes ?? 10, smallCnnWith(classes ?? 10));
    }
    case 'convnet4':
      return new Model(spec, [28, 28, 1], classes ?? 10, mnistConvNet(classes ?? 10));
    case 'preact-resnet18':
      return new Model(spec, [32, 32, 3], classes ?? 10, preactResNet18(classes ?? 10, width(64)));
    case 'vgg16-bn':
      return new Model(spec, [32, 32, 3], classes ?? 10, vgg16bn(classes ?? 10, width(64)));
    case 'densenet-bc': {
      // `densenet-bc:GROWTH:B1-B2-B3-B4`: the same four dense blocks with fewer layers each.
      const blocks = depth === undefined ? [6, 12, 24, 16] : depth.split('-').map(Number);
      if (blocks.length !== 4 || blocks.some((d) => !Number.isInteger(d) || d < 1))
        throw new Error(
          `model '${spec}': the layers per block after the growth rate must be four positive integers, ` +
            'e.g. densenet-bc:2:1-2-4-3',
        );
      return new Model(spec, [32, 32, 3], classes ?? 100, denseNetBC(classes ?? 100, blocks, width(12)));
    }
    default:
      throw new Error(
        `unknown model '${spec}'; available: mlp:IN-...-OUT, small-cnn, convnet4, ` +
          'preact-resnet18, vgg16-bn, densenet-bc',
      );
  }
}

function smallCnnWith(classes: number): NetworkFn {
  if (classes !== 10) throw new Error('small-cnn has 10 output channels (10 classes)');
  return smallCnn();
}
