import { CounterRng } from '../rng/philox';

/** Probe vectors as a pure function of (seed, probe index): estimates are replayable. */
export function rademacher(dim: number, seed: number, index: number, stream = 'probe/rademacher'): Float64Array {
  const rng = new CounterRng(seed, stream);
  const v = new Float64Array(dim);
  for (let i = 0; i < dim; i += 4) {
    const w = rng.words(index, i >>> 2);
    for (let k = 0; k < 4 && i + k < dim; k++) v[i + k] = w[k]! & 1 ? 1 : -1;
  }
  return v;
}

export function gaussian(dim: number, seed: number, index: number, stream = 'probe/gaussian'): Float64Array {
  const rng = new CounterRng(seed, stream);
  const v = new Float64Array(dim);
  for (let i = 0; i < dim; i += 2) {
    const [a, b] = rng.normalPair(index, i >>> 1);
    v[i] = a;
    if (i + 1 < dim) v[i + 1] = b;
  }
  return v;
}
