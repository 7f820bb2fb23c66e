/** CIFAR archives in the published format, generated for tests (the real ones cannot be downloaded here). */
import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';

/** A CIFAR-10 or -100 binary file in the published record layout. */
export function cifarRecords(variant: 10 | 100, n: number, seed: number): Uint8Array {
  const labelBytes = variant === 10 ? 1 : 2;
  const out = new Uint8Array(n * (labelBytes + 3072));
  for (let i = 0; i < n; i++) {
    const at = i * (labelBytes + 3072);
    if (variant === 100) out[at] = (i + seed) % 20;
    out[at + labelBytes - 1] = (i * 7 + seed) % variant;
    for (let p = 0; p < 3072; p++) out[at + labelBytes + p] = (p * 31 + i * 17 + seed) % 256;
  }
  return out;
}

/** A small archive with the real member layout (4 records per member), made with tar; `salt` varies the pixels. */
export function cifarArchive(variant: 10 | 100, tmp: string, salt = 0): Uint8Array {
  const root = mkdtempSync(path.join(tmp, 'tar-'));
  const dir = variant === 10 ? 'cifar-10-batches-bin' : 'cifar-100-binary';
  mkdirSync(path.join(root, dir));
  const members =
    variant === 10
      ? [...[1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), 'test_batch.bin']
      : ['train.bin', 'test.bin'];
  members.forEach((m, i) => writeFileSync(path.join(root, dir, m), cifarRecords(variant, 4, i + salt)));
  const out = path.join(root, 'a.tar.gz');
  execFileSync('tar', ['-czf', out, '-C', root, dir]);
  return new Uint8Array(readFileSync(out));
}
