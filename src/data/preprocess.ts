import { CounterRng } from '../rng/philox';
import { sampleSize, select, type Dataset } from './dataset';

/**
 * Preprocessing as pure functions of the data and a seed: normalization, grey scale, area
 * resize, flattening, subsets, label shuffling, and the standard CIFAR augmentation.
 */

/** A seeded permutation of 0..n-1 (Fisher-Yates with counter-based draws). */
export function permutation(n: number, seed: number, stream: string, step = 0): Int32Array {
  const rng = new CounterRng(seed, stream);
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform(step, i) * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Per-channel standardization; statistics computed from `d` unless given (use the training set's). */
export function normalize(
  d: Dataset,
  stats?: { mean: number[]; std: number[] },
): { data: Dataset; mean: number[]; std: number[] } {
  const c = d.shape[d.shape.length - 1]!;
  let mean = stats?.mean,
    std = stats?.std;
  if (!mean || !std) {
    const sum = new Float64Array(c),
      sq = new Float64Array(c);
    for (let i = 0; i < d.x.length; i++) {
      sum[i % c]! += d.x[i]!;
      sq[i % c]! += d.x[i]! ** 2;
    }
    const count = d.x.length / c;
    mean = Array.from(sum, (s) => s / count);
    std = Array.from(sq, (s, k) => Math.sqrt(Math.max(s / count - mean![k]! ** 2, 1e-12)));
  }
  const x = Float32Array.from(d.x, (v, i) => (v - mean![i % c]!) / std![i % c]!);
  return { data: { ...d, x }, mean, std };
}

/** RGB → one grey channel with the ITU-R 601 luma weights. */
export function grayscale(d: Dataset): Dataset {
  const [h, w, c] = d.shape as [number, number, number];
  if (c !== 3) throw new Error(`grayscale needs 3 channels, got ${c}`);
  const n = d.y.length;
  const x = new Float32Array(n * h * w);
  for (let i = 0; i < n * h * w; i++) x[i] = 0.299 * d.x[3 * i]! + 0.587 * d.x[3 * i + 1]! + 0.114 * d.x[3 * i + 2]!;
  return { ...d, shape: [h, w, 1], x };
}

/** Area (box-filter) resize to outH×outW: each output pixel averages the input area it covers. */
export function resize(d: Dataset, outH: number, outW: number): Dataset {
  const [h, w, c] = d.shape as [number, number, number];
  const n = d.y.length;
  const x = new Float32Array(n * outH * outW * c);
  const weights = (inSize: number, outSize: number): Array<Array<[number, number]>> =>
    Array.from({ length: outSize }, (_, o) => {
      const from = (o * inSize) / outSize,
        to = ((o + 1) * inSize) / outSize;
      const list: Array<[number, number]> = [];
      for (let i = Math.floor(from); i < Math.ceil(to); i++) {
        const overlap = Math.min(to, i + 1) - Math.max(from, i);
        if (overlap > 1e-12) list.push([i, overlap / (to - from)]);
      }
      return list;
    });
  const wy = weights(h, outH),
    wx = weights(w, outW);
  for (let s = 0; s < n; s++) {
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++)
        for (let k = 0; k < c; k++) {
          let v = 0;
          for (const [iy, ay] of wy[oy]!)
            for (const [ix, ax] of wx[ox]!) v += ay * ax * d.x[((s * h + iy) * w + ix) * c + k]!;
          x[((s * outH + oy) * outW + ox) * c + k] = v;
        }
  }
  return { ...d, shape: [outH, outW, c], x };
}

/** Samples as flat feature vectors (for MLPs). */
export function flatten(d: Dataset): Dataset {
  return { ...d, shape: [sampleSize(d)] };
}

/** `n` samples drawn without replacement by the seed. */
export function subset(d: Dataset, n: number, seed: number): Dataset {
  if (n > d.y.length) throw new Error(`subset of ${n} requested from ${d.y.length} samples in ${d.name}`);
  return select(d, permutation(d.y.length, seed, 'data/subset').subarray(0, n), `${d.name}[${n}]`);
}

/** Split into the first `n` and the rest of a seeded permutation. */
export function split(d: Dataset, n: number, seed: number): [Dataset, Dataset] {
  const p = permutation(d.y.length, seed, 'data/split');
  return [select(d, p.subarray(0, n), `${d.name}/a`), select(d, p.subarray(n), `${d.name}/b`)];
}

/** Randomly permute the labels among the samples (fig4bc's corrupted set B). */
export function shuffleLabels(d: Dataset, seed: number): Dataset {
  const p = permutation(d.y.length, seed, 'data/shuffle-labels');
  return { ...d, name: `${d.name}/shuffled`, y: Int32Array.from(p, (i) => d.y[i]!) };
}

/**
 * The draws of {@link augment} for the `n` samples of `step`'s batch: [n, 3] int32 (row shift,
 * column shift, flip 0 or 1), so a device can apply the same crops and flips (the torch
 * addon's native training does).
 */
export function augmentParams(n: number, seed: number, step: number, padding = 4): Int32Array {
  const rng = new CounterRng(seed, 'data/augment');
  const out = new Int32Array(3 * n);
  for (let s = 0; s < n; s++) {
    const words = rng.words(step, s);
    out[3 * s] = (words[0]! % (2 * padding + 1)) - padding;
    out[3 * s + 1] = (words[1]! % (2 * padding + 1)) - padding;
    out[3 * s + 2] = words[2]! & 1;
  }
  return out;
}

/**
 * Standard CIFAR augmentation: zero-pad 4, random 32×32 crop, horizontal flip with probability
 * ½; a pure function of (seed, step, sample index) so any replay sees the same images.
 */
export function augment(
  x: Float32Array,
  n: number,
  shape: number[],
  seed: number,
  step: number,
  padding = 4,
): Float32Array {
  const [h, w, c] = shape as [number, number, number];
  const draws = augmentParams(n, seed, step, padding);
  const out = new Float32Array(x.length);
  for (let s = 0; s < n; s++) {
    const dy = draws[3 * s]!,
      dx = draws[3 * s + 1]!;
    const flip = draws[3 * s + 2] === 1;
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        const sy = y + dy,
          sx0 = xx + dx;
        const sx = flip ? w - 1 - sx0 : sx0;
        if (sy < 0 || sy >= h || sx0 < 0 || sx0 >= w) continue; // padded zeros
        for (let k = 0; k < c; k++) out[((s * h + y) * w + xx) * c + k] = x[((s * h + sy) * w + sx) * c + k]!;
      }
  }
  return out;
}
