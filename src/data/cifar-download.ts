import { createHash } from 'crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { concatDatasets, parseCifarBinary, type CifarVariant } from './cifar';
import { DataFormatError, type Dataset } from './dataset';
import { readTar } from './tar';

/** Where the binary CIFAR archives come from, with the checksums their authors publish. */
export interface CifarSource {
  url: string;
  md5: string;
}

export const CIFAR_SOURCES: Record<CifarVariant, CifarSource & { train: string[]; test: string[] }> = {
  10: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    md5: 'c32a1d4ab5d03f1284b67883e8d87530',
    train: [1, 2, 3, 4, 5].map((i) => `cifar-10-batches-bin/data_batch_${i}.bin`),
    test: ['cifar-10-batches-bin/test_batch.bin'],
  },
  100: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    md5: '03b5dce01913d631647c71ecec9e9cb8',
    train: ['cifar-100-binary/train.bin'],
    test: ['cifar-100-binary/test.bin'],
  },
};

/** A download that failed for a reason a retry may fix (network), as opposed to a bad file. */
export class DownloadError extends Error {
  override name = 'DownloadError';
}

/**
 * Stream `location` to `dest`, hashing as it arrives; the file appears under its name only if the
 * MD5 matches, so an interrupted or corrupted download leaves nothing behind.
 */
export async function downloadVerified(location: string, dest: string, md5: string): Promise<void> {
  mkdirSync(path.dirname(dest), { recursive: true });
  const partial = `${dest}.partial`;
  // A mirror's user and password go in an Authorization header (fetch refuses them in the URL),
  // and messages name the URL without them or its query.
  const parsed = new URL(location);
  const auth =
    parsed.username || parsed.password
      ? Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')
      : '';
  parsed.username = parsed.password = '';
  const url = `${parsed.origin}${parsed.pathname}`;
  let response: Response;
  try {
    response = await fetch(parsed, auth ? { headers: { authorization: `Basic ${auth}` } } : {});
  } catch (err) {
    throw new DownloadError(`downloading ${url} failed: ${(err as Error).message}`);
  }
  if (!response.ok || !response.body) throw new DownloadError(`downloading ${url} failed: HTTP ${response.status}`);
  const hash = createHash('md5');
  const out = createWriteStream(partial);
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  } catch (err) {
    out.destroy();
    rmSync(partial, { force: true });
    throw new DownloadError(`downloading ${url} broke off: ${(err as Error).message}`);
  }
  const actual = hash.digest('hex');
  if (actual !== md5) {
    rmSync(partial, { force: true });
    throw new DataFormatError(
      `${url}: MD5 ${actual} does not match the expected ${md5}; the download is corrupt or not the published archive`,
    );
  }
  renameSync(partial, dest);
}

/**
 * CIFAR-10 or -100, `train` or `test`, from the binary archive in `cacheDir` (downloaded and
 * verified on first use). The cached archive is verified again before it is read.
 */
export async function loadCifar(
  variant: CifarVariant,
  split: 'train' | 'test',
  cacheDir: string,
  source: CifarSource = CIFAR_SOURCES[variant],
): Promise<Dataset> {
  const archive = path.join(cacheDir, path.basename(new URL(source.url).pathname));
  if (!existsSync(archive)) await downloadVerified(source.url, archive, source.md5);
  const bytes = new Uint8Array(readFileSync(archive));
  const actual = createHash('md5').update(bytes).digest('hex');
  if (actual !== source.md5)
    throw new DataFormatError(
      `${archive}: MD5 ${actual} does not match ${source.md5}; delete the file to download it again`,
    );
  let files: Map<string, Uint8Array>;
  try {
    files = readTar(new Uint8Array(gunzipSync(bytes)), archive);
  } catch (err) {
    if (err instanceof DataFormatError) throw err;
    throw new DataFormatError(`${archive}: not a gzip archive (${(err as Error).message})`);
  }
  const members = CIFAR_SOURCES[variant][split];
  const parts = members.map((m) => {
    const data = files.get(m);
    if (!data) throw new DataFormatError(`${archive}: member ${m} is missing`);
    return parseCifarBinary(data, variant, `${archive}:${m}`);
  });
  return concatDatasets(parts, `cifar${variant}-${split}`);
}
