/** `repro data import`: a CIFAR archive downloaded elsewhere, checked and imported; the mirror URL. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadCifar } from '../src/data/cifar-download';
import { cifarSource } from '../src/data/cifar-import';
import { cifarArchive } from './cifar-fixture';
import { runCli } from './helpers';

const tmp = mkdtempSync(path.join(tmpdir(), 'repro-import-'));
const dataDir = path.join(tmp, 'data');
const conf = ['--conf', `dataDir=${dataDir}`];

function oneLineError(r: { status: number | null; stdout: string; stderr: string }, re: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, re);
}

test(
  'an archive that is not the published one is refused with one line and nothing imported; ' +
    'vouched for with --md5 it is imported and read',
  async () => {
    const archive = path.join(tmp, 'cifar-10-binary.tar.gz');
    const bytes = cifarArchive(10, tmp);
    writeFileSync(archive, bytes);
    const md5 = createHash('md5').update(bytes).digest('hex');
    oneLineError(
      runCli(['data', 'import', 'cifar10', archive, ...conf]),
      new RegExp(
        'MD5 [0-9a-f]{32} is not the published cifar-10-binary.tar.gz ' +
          '\\(c32a1d4ab5d03f1284b67883e8d87530\\); download the binary version',
      ),
    );
    assert.equal(existsSync(path.join(dataDir, 'datasets', 'cifar-10-binary.tar.gz')), false, 'nothing half-imported');
    oneLineError(
      runCli(['data', 'import', 'cifar10', path.join(tmp, 'missing.tar.gz'), ...conf]),
      /missing.tar.gz: no such file/,
    );
    oneLineError(runCli(['data', 'import', 'cifar12', archive, ...conf]), /use cifar10 or cifar100/);
    oneLineError(
      runCli(['data', 'import', 'cifar100', archive, '--md5', md5, ...conf]),
      /member cifar-100-binary\/train.bin is missing; is it CIFAR-100\?/,
    );
    const ok = runCli(['data', 'import', 'cifar10', archive, '--md5', md5, '--json', ...conf]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), {
      path: path.join(dataDir, 'datasets', 'cifar-10-binary.tar.gz'),
      md5,
      train: 20,
      test: 4,
    });
    // runs read it from the datasets folder, with no download (the canonical host is unreachable here)
    const cache = path.join(dataDir, 'datasets');
    const train = await loadCifar(10, 'train', cache, cifarSource(10, cache, 'http://127.0.0.1:9'));
    assert.equal(train.y.length, 20);
    assert.deepEqual(Buffer.from(readFileSync(path.join(cache, 'cifar-10-binary.tar.gz'))), Buffer.from(bytes));
  },
);

test('the mirror URL replaces the download host, keeping the published file name', () => {
  const cache = path.join(tmp, 'nothing');
  assert.equal(
    cifarSource(100, cache, 'https://mirror.example.org/cifar/').url,
    'https://mirror.example.org/cifar/cifar-100-binary.tar.gz',
  );
  assert.equal(cifarSource(10, cache).url, 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz');
  assert.equal(cifarSource(10, cache).md5, 'c32a1d4ab5d03f1284b67883e8d87530');
});
