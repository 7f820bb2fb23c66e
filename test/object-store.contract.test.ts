/** One contract for every ObjectStore: the real S3 server of the test stack and a local folder. */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { makeObjectStore, makeS3Client } from '../infra/clients';
import { FolderObjectStore } from '../src/storage/folder-object-store';
import { ObjectNotFoundError, type ObjectStore } from '../src/storage/object-store';
import { testConfig } from './helpers';

const folder = mkdtempSync(path.join(os.tmpdir(), 'repro-store-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const implementations: Array<[string, () => ObjectStore]> = [
  ['S3 (MinIO over HTTP)', () => makeObjectStore(testConfig({ 's3.prefix': `contract-${randomUUID()}/` }))],
  ['local folder', () => new FolderObjectStore(folder)],
];

for (const [name, make] of implementations) {
  describe(`ObjectStore contract: ${name}`, () => {
    const store = make();
    const base = `t-${randomUUID()}/`;

    test('put then get returns the same bytes', async () => {
      const body = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);
      await store.put(`${base}a/b.bin`, body);
      assert.deepEqual(await store.get(`${base}a/b.bin`), body);
    });

    test('a missing key is ObjectNotFoundError', async () => {
      await assert.rejects(
        store.get(`${base}nope`),
        (e: Error) => e instanceof ObjectNotFoundError && e.message.includes(`${base}nope`),
      );
    });

    test('list is sorted, prefix-scoped, and sees overwrites once', async () => {
      await store.put(`${base}l/2`, Buffer.from('2'));
      await store.put(`${base}l/1`, Buffer.from('1'));
      await store.put(`${base}l/1`, Buffer.from('one'));
      await store.put(`${base}m/1`, Buffer.from('x'));
      assert.deepEqual(await store.list(`${base}l/`), [`${base}l/1`, `${base}l/2`]);
      assert.equal(Buffer.from(await store.get(`${base}l/1`)).toString(), 'one');
      const detailed = await store.listDetailed(`${base}l/`);
      assert.deepEqual(
        detailed.map((o) => [o.key, o.size]),
        [
          [`${base}l/1`, 3],
          [`${base}l/2`, 1],
        ],
        'sizes of the latest writes',
      );
      for (const o of detailed)
        assert.ok(Math.abs(o.modified.getTime() - Date.now()) < 60_000, `${o.key} modified just now`);
    });

    test('putIfAbsent writes once: of many writers at once exactly one wins, and the winner stays', async () => {
      const key = `${base}once`;
      const wins = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.putIfAbsent(key, Buffer.from(`writer ${i}`))),
      );
      assert.equal(wins.filter(Boolean).length, 1, 'one writer won');
      const winner = wins.indexOf(true);
      assert.equal(Buffer.from(await store.get(key)).toString(), `writer ${winner}`);
      assert.equal(await store.putIfAbsent(key, Buffer.from('late')), false);
      assert.equal(Buffer.from(await store.get(key)).toString(), `writer ${winner}`, 'a late writer changes nothing');
      assert.equal(await store.putIfAbsent(`${base}once-other`, Buffer.from('x')), true);
    });

    test('delete removes, and deleting twice is fine', async () => {
      await store.put(`${base}d`, Buffer.from('x'));
      await store.delete(`${base}d`);
      await store.delete(`${base}d`);
      await assert.rejects(store.get(`${base}d`), ObjectNotFoundError);
    });

    test('large objects (multipart above 16 MiB) round-trip', async () => {
      const big = new Uint8Array(17 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
      await store.put(`${base}big`, big);
      const back = await store.get(`${base}big`);
      assert.equal(back.length, big.length);
      assert.ok(Buffer.from(back).equals(Buffer.from(big)));
    });
  });
}

test('S3: a stored object carries its SHA-256 as a checksum the server verified', async () => {
  const config = testConfig({ 's3.prefix': `contract-${randomUUID()}/` });
  const client = makeS3Client(config);
  const body = Buffer.from('checksummed content');
  const sha256 = await makeObjectStore(config, client).put('c', body);
  const head = await client.send(
    new HeadObjectCommand({ Bucket: config.s3.bucket, Key: `${config.s3.prefix}c`, ChecksumMode: 'ENABLED' }),
  );
  assert.equal(head.ChecksumSHA256, Buffer.from(sha256, 'hex').toString('base64'));
  assert.equal(sha256, createHash('sha256').update(body).digest('hex'));
});

test(
  'S3: a large body in shared memory is hashed on the hasher thread while it uploads; ' + 'get verifies it there too',
  async () => {
    const store = makeObjectStore(testConfig({ 's3.prefix': `contract-${randomUUID()}/` }));
    const body = new Uint8Array(new SharedArrayBuffer(17 * 1024 * 1024));
    for (let i = 0; i < body.length; i += 997) body[i] = i % 253;
    const expected = createHash('sha256').update(body).digest('hex');
    assert.equal(await store.put('shared', body), expected);
    const back = await store.getHashed('shared');
    assert.equal(back.sha256, expected);
    assert.ok(Buffer.from(back.bytes).equals(Buffer.from(body)));
  },
);
