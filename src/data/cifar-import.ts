import { createHash } from 'crypto';
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync } from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { CIFAR_SOURCES, type CifarSource } from './cifar-download';
import { parseCifarBinary, type CifarVariant } from './cifar';
import { DataFormatError } from './dataset';
import { readTar } from './tar';

/** The file name an archive of a variant is kept under in the datasets folder (as the canonical one is named). */
export const archiveName = (variant: CifarVariant): string =>
  path.basename(new URL(CIFAR_SOURCES[variant].url).pathname);

/** The MD5 an imported archive was accepted with, when it is not the published one (a sidecar `<archive>.md5`). */
export function acceptedMd5(cacheDir: string, variant: CifarVariant): string {
  const sidecar = path.join(cacheDir, `${archiveName(variant)}.md5`);
  return existsSync(sidecar) ? readFileSync(sidecar, 'utf8').trim() : CIFAR_SOURCES[variant].md5;
}

/**
 * Where a variant comes from: the canonical host, or a mirror (`data.cifarMirror`, a base URL
 * that serves the same file names), with the MD5 it must have.
 */
export function cifarSource(variant: CifarVariant, cacheDir: string, mirror = ''): CifarSource {
  const canonical = CIFAR_SOURCES[variant];
  const url = mirror ? `${mirror.replace(/\/+$/, '')}/${archiveName(variant)}` : canonical.url;
  return { url, md5: acceptedMd5(cacheDir, variant) };
}

/**
 * Import an archive downloaded elsewhere into the datasets folder, so runs find it without a
 * download. It must be the published archive (its MD5), or the one the caller vouches for with
 * `md5` (an internal repackaging); either way it must read as CIFAR-`variant` (every member,
 * whole records). The copy appears under its final name only when complete.
 */
export function importCifar(
  variant: CifarVariant,
  archive: string,
  cacheDir: string,
  md5?: string,
): { path: string; md5: string; train: number; test: number } {
  if (!existsSync(archive) || !statSync(archive).isFile())
    throw new DataFormatError(
      `${archive}: ${existsSync(archive) ? 'a folder, not a file' : 'no such file'}; ` +
        `give the path of cifar-${variant}-binary.tar.gz`,
    );
  const bytes = readFileSync(archive);
  const actual = createHash('md5').update(bytes).digest('hex');
  const expected = (md5 ?? CIFAR_SOURCES[variant].md5).toLowerCase();
  if (actual !== expected) {
    throw new DataFormatError(
      md5
        ? `${archive}: MD5 ${actual} is not the ${expected} you gave; check the file or the hash`
        : `${archive}: MD5 ${actual} is not the published cifar-${variant}-binary.tar.gz (${expected}); ` +
            `download the binary version from ${CIFAR_SOURCES[variant].url}, ` +
            `or pass --md5 to vouch for another packaging`,
    );
  }
  let files: Map<string, Uint8Array>;
  try {
    files = readTar(new Uint8Array(gunzipSync(bytes)), archive);
  } catch (err) {
    if (err instanceof DataFormatError) throw err;
    throw new DataFormatError(`${archive}: not a gzip archive (${(err as Error).message})`);
  }
  const count = (members: string[]): number =>
    members.reduce((n, m) => {
      const data = files.get(m);
      if (!data) throw new DataFormatError(`${archive}: member ${m} is missing; is it CIFAR-${variant}?`);
      return n + parseCifarBinary(data, variant, `${archive}:${m}`).y.length;
    }, 0);
  const train = count(CIFAR_SOURCES[variant].train),
    test = count(CIFAR_SOURCES[variant].test);
  mkdirSync(cacheDir, { recursive: true });
  const dest = path.join(cacheDir, archiveName(variant));
  const partial = `${dest}.partial`;
  copyFileSync(archive, partial);
  const sidecar = `${dest}.md5`;
  if (actual !== CIFAR_SOURCES[variant].md5) writeFileSync(sidecar, `${actual}\n`);
  else rmSync(sidecar, { force: true });
  renameSync(partial, dest);
  return { path: dest, md5: actual, train, test };
}
