import { createHash } from 'crypto';
import type { DataSource, ImageSet } from '../data/data-source';
import type { Dataset } from '../data/dataset';
import { flatten, grayscale, normalize, resize, subset } from '../data/preprocess';

/** How a study turns a published training set into its inputs. */
export interface ImagePrep {
  /** Training images, drawn without replacement by `seed` (the same draw for every seed of a run). */
  samples: number;
  seed: number;
  /** Image side after an area resize (the original size: no resize). */
  side: number;
  /** `grey`: RGB to one luma channel first (MNIST is grey already); `keep`: as published. */
  colour: 'grey' | 'keep';
  /** Standardize each channel by the subset's own mean and deviation. */
  normalize: boolean;
  /** Flat feature vectors (MLP inputs), else [side, side, channels] images. */
  flat: boolean;
}

/** A study's prepared inputs, with the SHA-256 of their content (shape, labels, pixels). */
export interface PreparedImages {
  data: Dataset;
  sha256: string;
}

const cache = new Map<string, Promise<PreparedImages>>();

/**
 * `name`'s training set prepared by `prep`, from the worker's data: subset, grey scale, resize,
 * standardization, flattening, in that order. Cached per process by the data's identity and
 * `prep` (a unit resumed on the same worker reuses it, and the full-batch objectives built on it).
 */
export function preparedImages(source: DataSource, name: ImageSet, prep: ImagePrep): Promise<PreparedImages> {
  const key = JSON.stringify([source.identity(name), prep]);
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      // Each stage is synchronous work of seconds on all of CIFAR-10: yield between them, so that
      // the activity's heartbeats get out.
      const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
      let d = subset(await source.load(name, 'train'), prep.samples, prep.seed);
      await tick();
      if (prep.colour === 'grey' && d.shape[2] === 3) d = grayscale(d);
      await tick();
      if (d.shape[0] !== prep.side || d.shape[1] !== prep.side) d = resize(d, prep.side, prep.side);
      await tick();
      if (prep.normalize) d = normalize(d).data;
      if (prep.flat) d = flatten(d);
      await tick();
      return { data: d, sha256: datasetHash(d) };
    })();
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/** SHA-256 of a data set's content: its sample shape, classes, count, labels and pixels. */
export function datasetHash(d: Dataset): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([d.shape, d.classes, d.y.length]));
  hash.update(new Uint8Array(d.x.buffer, d.x.byteOffset, d.x.byteLength));
  hash.update(new Uint8Array(d.y.buffer, d.y.byteOffset, d.y.byteLength));
  return hash.digest('hex');
}
