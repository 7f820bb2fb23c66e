import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { makeObjectStore } from '../infra/clients';
import { CheckpointStore, type SkippedCheckpoint } from '../src/checkpoint/checkpoint-store';
import { testConfig } from './helpers';

const store = makeObjectStore(testConfig());
const checkpoints = new CheckpointStore(store);
const tensors = (v: number) => ({ theta: { dtype: 'F64' as const, shape: [1], data: Float64Array.of(v) } });

test('the newest committed checkpoint is loaded, verified', async () => {
  const root = `ck-${randomUUID()}/`;
  await checkpoints.commit(root, 100, tensors(1), { note: 'a' });
  await checkpoints.commit(root, 200, tensors(2), { note: 'b' });
  const latest = await checkpoints.loadLatest(root);
  assert.equal(latest?.manifest.step, 200);
  assert.equal(latest?.tensors.theta!.data[0], 2);
  assert.deepEqual(latest?.manifest.meta, { note: 'b' });
});

test('a corrupted data object (hash mismatch) is skipped for the previous valid one, never loaded', async () => {
  const root = `ck-${randomUUID()}/`;
  await checkpoints.commit(root, 100, tensors(1), {});
  const { manifest } = await checkpoints.commit(root, 200, tensors(2), {});
  const bytes = Uint8Array.from(await store.get(manifest.data.key));
  bytes[bytes.length - 1]! ^= 0xff; // flip bits in the stored value
  await store.put(manifest.data.key, bytes);
  const skipped: SkippedCheckpoint[] = [];
  const latest = await checkpoints.loadLatest(root, (s) => skipped.push(s));
  assert.equal(latest?.manifest.step, 100);
  assert.equal(latest?.tensors.theta!.data[0], 1);
  assert.equal(skipped.length, 1);
  assert.match(skipped[0]!.reason, /sha256 mismatch/);
});

test('data without a manifest (a crash before the commit) is invisible', async () => {
  const root = `ck-${randomUUID()}/`;
  await checkpoints.commit(root, 100, tensors(1), {});
  await store.put(`${root}000000000200/state.safetensors`, Buffer.from('half-written'));
  assert.equal((await checkpoints.loadLatest(root))?.manifest.step, 100);
});

test('a missing data object or a garbled manifest is skipped; nothing valid means undefined', async () => {
  const root = `ck-${randomUUID()}/`;
  const { manifest } = await checkpoints.commit(root, 100, tensors(1), {});
  await store.delete(manifest.data.key);
  await store.put(`${root}000000000300/manifest.json`, Buffer.from('{not json'));
  const reasons: string[] = [];
  assert.equal(await checkpoints.loadLatest(root, (s) => reasons.push(s.reason)), undefined);
  assert.deepEqual(
    reasons.map((r) => r.replace(/ .*/, '')),
    ['manifest', 'data'],
  );
});

test('prune removes older checkpoints except the kept ones; the newest still loads', async () => {
  const root = `ck-${randomUUID()}/`;
  for (const step of [10, 20, 25, 30, 40]) await checkpoints.commit(root, step, tensors(step), {});
  assert.deepEqual(await checkpoints.prune(root, 40, (step) => step % 20 === 0), [10, 25, 30]);
  assert.deepEqual(
    (await checkpoints.committedSteps(root)).map((c) => c.step),
    [40, 20],
  );
  assert.equal((await store.list(root)).length, 4, 'manifests and data of the pruned ones are gone');
  assert.equal((await checkpoints.loadLatest(root))?.tensors.theta!.data[0], 40);
});
