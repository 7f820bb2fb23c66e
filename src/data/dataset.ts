/** An in-memory labelled image set: pixels as float32 NHWC (or [n, features]), labels int32. */
export interface Dataset {
  name: string;
  /** Per-sample shape, e.g. [28, 28, 1] or [196]. */
  shape: number[];
  classes: number;
  x: Float32Array;
  y: Int32Array;
}

/** A malformed or unreadable data file; the message names the file and the problem. */
export class DataFormatError extends Error {
  override name = 'DataFormatError';
}

export function sampleSize(d: Pick<Dataset, 'shape'>): number {
  return d.shape.reduce((a, b) => a * b, 1);
}

export function size(d: Dataset): number {
  return d.y.length;
}

/** The samples at `indices`, in that order. */
export function select(d: Dataset, indices: ArrayLike<number>, name = d.name): Dataset {
  const s = sampleSize(d);
  const x = new Float32Array(indices.length * s);
  const y = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    x.set(d.x.subarray(i * s, (i + 1) * s), k * s);
    y[k] = d.y[i]!;
  }
  return { ...d, name, x, y };
}

/** Check labels are in [0, classes); `source` names the file for the error. */
export function checkLabels(labels: ArrayLike<number>, classes: number, source: string): void {
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l) || l < 0 || l >= classes)
      throw new DataFormatError(`${source}: label ${l} of sample ${i} is outside 0..${classes - 1}`);
  }
}
