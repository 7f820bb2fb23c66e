/**
 * Exact Hessian-vector products: against a float64 reference (MLP) and finite differences (every model's smooth
 * twin).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { gradientAt, hvpAt, lossAt, type Objective } from '../../src/hessian/hvp';
import { installSecondOrderGradients } from '../../src/engine/second-order';
import { gaussian } from '../../src/hessian/probes';
import { TensorBuilder } from '../../src/models/builder';
import { buildModel, type Model } from '../../src/models/model';
import { CounterRng } from '../../src/rng/philox';
import { mlpReference, type MlpProblem } from '../reference/mlp-float64';

before(async () => {
  await tf.setBackend('cpu');
});

function data(
  model: Model,
  n: number,
  seed: number,
): { x: tf.Tensor; y: tf.Tensor1D; xs: Float64Array; labels: Int32Array } {
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const rng = new CounterRng(seed, 'test/data');
  const xs = Float64Array.from({ length: n * size }, (_, i) => rng.normal(0, i));
  const labels = Int32Array.from({ length: n }, (_, i) => Math.floor(rng.uniform(1, i) * model.numClasses));
  return { x: tf.tensor(Float32Array.from(xs), [n, ...model.inputShape]), y: tf.tensor1d(labels, 'int32'), xs, labels };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

test("parameter counts of the paper's models", () => {
  assert.equal(buildModel('mlp:196-30-10').paramCount, 6220);
  assert.equal(buildModel('mlp:49-70-10').paramCount, 49 * 70 + 70 + 70 * 10 + 10);
  assert.equal(buildModel('small-cnn').paramCount, 27 * 15 + 15 + (135 * 20 + 20) + (180 * 10 + 10));
  assert.equal(buildModel('convnet4').paramCount, 1_199_882);
  assert.equal(buildModel('preact-resnet18').paramCount, 11_171_146);
  assert.equal(buildModel('vgg16-bn').paramCount, 14_728_266);
  // DenseNet-BC (6,12,24,16), growth 12, counted layer by layer: conv weights + 2 per BN channel.
  let planes = 24,
    count = 3 * 3 * 3 * 24;
  [6, 12, 24, 16].forEach((layers, d) => {
    for (let l = 0; l < layers; l++) {
      count += 2 * planes + planes * 48 + 2 * 48 + 9 * 48 * 12;
      planes += 12;
    }
    if (d < 3) {
      const out = Math.floor(planes / 2);
      count += 2 * planes + planes * out;
      planes = out;
    }
  });
  count += 2 * planes + planes * 100 + 100;
  assert.equal(buildModel('densenet-bc').paramCount, count);
});

test('max pooling routes first and second derivatives to the window maximum', () => {
  const b = new TensorBuilder(new Map(), { mode: 'batch' }, false);
  const x = tf.tensor4d([3, 1, 0, 2, 5, 4, 7, 1, 0, 0, 1, 9, 8, 2, 3, 4], [1, 4, 4, 1]);
  const w = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const f = (t: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.square(b.maxPool2(t)), w));
  // maxima 5, 7, 8, 9 at flat positions 4, 6, 12, 11 with weights 1, 2, 3, 4
  assert.deepEqual(Array.from(tf.grad(f)(x).dataSync()), [0, 0, 0, 0, 10, 0, 28, 0, 0, 0, 0, 72, 48, 0, 0, 0]);
  installSecondOrderGradients();
  const hv = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.grad(f)(t), tf.onesLike(t))))(x);
  assert.deepEqual(Array.from(hv.dataSync()), [0, 0, 0, 0, 2, 0, 4, 0, 0, 0, 0, 8, 6, 0, 0, 0]);
});

test('MLP HVP equals the float64 R-operator reference (relu and softplus, label smoothing 0.1)', () => {
  for (const activation of ['relu', 'softplus'] as const) {
    const model = buildModel('mlp:20-12-5');
    const { x, y, xs, labels } = data(model, 64, 3);
    const theta = model.init(1);
    const obj: Objective = {
      model,
      batches: [{ x, y }],
      loss: 'lsce',
      smoothing: 0.1,
      forward: { smoothTwin: activation === 'softplus' },
    };
    const problem: MlpProblem = {
      d: 20,
      h: 12,
      k: 5,
      x: xs.map((v) => Math.fround(v)),
      labels,
      smoothing: 0.1,
      activation,
    };
    const v = gaussian(model.paramCount, 7, 0);
    const ref = mlpReference(problem, theta, v);
    const flat = tf.tensor1d(theta);
    assert.ok(Math.abs(lossAt(obj, flat) - ref.loss) < 1e-5 * ref.loss, 'loss');
    const g = gradientAt(obj, flat);
    assert.ok(relErr(g.dataSync(), ref.grad) < 1e-5, `${activation} gradient`);
    const hv = hvpAt(obj, flat, tf.tensor1d(Float32Array.from(v)));
    const err = relErr(hv.dataSync(), ref.hv);
    assert.ok(err < 1e-4, `${activation} HVP relative error ${err}`);
  }
});

/**
 * Central differences of the gradient with one Richardson step: O(ε⁴) truncation, so a large
 * step (0.2 along a unit direction) keeps float32 rounding in the gradients out of the way.
 */
function finiteDifferenceHvp(obj: Objective, theta: Float32Array, v: Float64Array, eps: number): Float64Array {
  const at = (s: number): Float64Array => {
    const shifted = tf.tensor1d(Float32Array.from(theta, (t, i) => t + s * v[i]!));
    const g = gradientAt(obj, shifted);
    const out = Float64Array.from(g.dataSync());
    g.dispose();
    shifted.dispose();
    return out;
  };
  const d = (e: number): Float64Array => {
    const p = at(e),
      m = at(-e);
    return p.map((pi, i) => (pi - m[i]!) / (2 * e));
  };
  const d1 = d(eps),
    d2 = d(eps / 2);
  return d2.map((x, i) => (4 * x - d1[i]!) / 3);
}

test('MSE loss: HVP matches finite differences (mlp:49-20-10)', () => {
  const model = buildModel('mlp:49-20-10');
  const { x, y } = data(model, 16, 8);
  const theta = model.init(3);
  const obj: Objective = { model, batches: [{ x, y }], loss: 'mse', smoothing: 0, forward: { smoothTwin: true } };
  const v = gaussian(model.paramCount, 4, 0);
  const norm = Math.sqrt(v.reduce((s, a) => s + a * a, 0));
  const unit = v.map((a) => a / norm);
  const hv = hvpAt(obj, tf.tensor1d(theta), tf.tensor1d(Float32Array.from(unit))).dataSync();
  const err = relErr(hv, finiteDifferenceHvp(obj, theta, unit, 0.2));
  assert.ok(err < 1e-4, `relative error ${err}`);
});

// The wide models are checked at reduced width (same code and structure, a fraction of the
// cost: the pure-JS backend convolves at a few MFLOP/s); full widths are checked on the GPU.
// The finite-difference reference is limited by float32 rounding of the gradients to about
// 1e-4 for deep batch-normalized nets: VGG and DenseNet get a larger step (VGG a larger batch) to stay below it.
for (const [spec, n, eps] of [
  ['mlp:196-30-10', 32, 0.2],
  ['small-cnn', 4, 0.2],
  ['convnet4', 2, 0.2],
  ['vgg16-bn:4', 8, 0.4],
  ['preact-resnet18:4', 2, 0.2],
  ['densenet-bc:2', 2, 0.4],
] as const) {
  test(`${spec}: HVP matches finite differences on the smooth twin`, () => {
    const model = buildModel(spec);
    const { x, y } = data(model, n, 5);
    const theta = model.init(2);
    const obj: Objective = { model, batches: [{ x, y }], loss: 'lsce', smoothing: 0.1, forward: { smoothTwin: true } };
    const v = gaussian(model.paramCount, 9, 0);
    const norm = Math.sqrt(v.reduce((s, a) => s + a * a, 0));
    const unit = v.map((a) => a / norm);
    const hv = hvpAt(obj, tf.tensor1d(theta), tf.tensor1d(Float32Array.from(unit))).dataSync();
    const fd = finiteDifferenceHvp(obj, theta, unit, eps);
    const err = relErr(hv, fd);
    assert.ok(err < 1e-4, `relative error ${err}`);
  });
}

/** ∂/∂W of Σ r·conv2d(x, W) in float64, straight from the definition (NHWC, stride 1 or 2). */
function filterGradientReference(
  x: Float64Array,
  xs: number[],
  r: Float64Array,
  rs: number[],
  k: number,
  stride: number,
  pads: [number, number],
): Float64Array {
  const [n, h, w, ci] = xs as [number, number, number, number];
  const [, ho, wo, co] = rs as [number, number, number, number];
  const out = new Float64Array(k * k * ci * co);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let a = 0; a < k; a++)
          for (let c = 0; c < k; c++) {
            const y = i * stride + a - pads[0],
              z = j * stride + c - pads[1];
            if (y < 0 || y >= h || z < 0 || z >= w) continue;
            for (let p = 0; p < ci; p++)
              for (let q = 0; q < co; q++) {
                out[((a * k + c) * ci + p) * co + q]! +=
                  x[((b * h + y) * w + z) * ci + p]! * r[((b * ho + i) * wo + j) * co + q]!;
              }
          }
  return out;
}

test('convolution filter gradients (same, valid, numeric padding; stride 1 and 2) equal the float64 definition', () => {
  installSecondOrderGradients();
  const rng = new CounterRng(3, 'test/conv');
  const draw = (len: number, stream: number) => Float64Array.from({ length: len }, (_, i) => rng.normal(stream, i));
  for (const [pad, stride, k] of [
    ['same', 1, 3],
    ['valid', 1, 3],
    [1, 1, 3],
    ['same', 2, 3],
    ['valid', 2, 1],
    ['same', 1, 2],
  ] as const) {
    const xs = [3, 7, 6, 2],
      x = draw(3 * 7 * 6 * 2, 1);
    const w = tf.tensor4d(Float32Array.from(draw(k * k * 2 * 4, 2)), [k, k, 2, 4]);
    const xt = tf.tensor4d(Float32Array.from(x), xs as [number, number, number, number]);
    const outShape = tf.conv2d(xt, w, stride, pad).shape;
    const r = draw(
      outShape.reduce((a, b) => a * b, 1),
      3,
    );
    const rt = tf.tensor(Float32Array.from(r), outShape);
    const g = tf
      .grad((wv: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xt, wv as tf.Tensor4D, stride, pad), rt)))(w)
      .dataSync();
    const total = (size: number, out: number) => Math.max((out - 1) * stride + k - size, 0);
    const pads: [number, number] =
      pad === 'valid'
        ? [0, 0]
        : typeof pad === 'number'
          ? [pad, pad]
          : [Math.floor(total(7, outShape[1]!) / 2), Math.floor(total(6, outShape[2]!) / 2)];
    const ref = filterGradientReference(x, xs, r, outShape, k, stride, pads);
    assert.ok(relErr(g, ref) < 1e-6, `pad ${pad}, stride ${stride}, kernel ${k}: relative error ${relErr(g, ref)}`);
    tf.dispose([w, xt, rt]);
  }
});
