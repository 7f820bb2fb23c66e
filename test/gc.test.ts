/**
 * `repro gc` against the real S3 server (and, for which runs exist, the real Temporal server):
 * it deletes the working state of closed runs and old cache entries, never a run's results, the
 * index, a running run's objects, anything within the cutoff, or what a kept object names; it
 * deletes commits before data; the CLI is a dry run unless --apply.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { makeObjectStore } from '../infra/clients';
import { awaitResult, startRun } from '../infra/cli/runs';
import { planRun } from '../src/experiments/registry';
import { applyGc, planGc, type RunState } from '../src/storage/gc';
import type { ObjectStore } from '../src/storage/object-store';
import { confArgs, runCli, testConfig, uniqueQueues } from './helpers';
import { inProcessWorkers } from './in-process-workers';

const DAY = 86_400_000;

test(
  'gc plans and applies on real S3: working state of old runs, unnamed old cache; ' +
    'results, index, live and named objects stay',
  async () => {
    const store = makeObjectStore(testConfig({ 's3.prefix': `gc-${randomUUID().slice(0, 8)}/` }));
    const put = (key: string, body: unknown = {}): Promise<string> => store.put(key, Buffer.from(JSON.stringify(body)));
    const ckpt = async (dir: string): Promise<void> => {
      await store.put(`${dir}/state.safetensors`, Buffer.alloc(4096));
      await put(`${dir}/manifest.json`);
    };
    // A StateRef names a checkpoint by its manifest's key: the checkpoint's data must stay with it.
    await put('runs/old/result.json', { minimum: { key: 'cache/minima/named/000000000010/manifest.json' } });
    await put('runs/old/artifacts/report.html');
    await put('runs/old/path/seed-1/0.json');
    await ckpt('runs/old/checkpoints/gd/000000000100');
    await ckpt('runs/live/checkpoints/gd/000000000100');
    await ckpt('runs/failed/seed-1/train/000000000010');
    await ckpt('cache/minima/named/000000000010');
    await ckpt('cache/minima/orphan/000000000010');
    await put('cache/project/answer.json', { minimum: { key: 'cache/minima/orphan/000000000010' } });
    await put('index/runs/old.json');
    const all = await store.list('');

    const now = new Date();
    const runs = new Map<string, RunState>([
      ['old', { running: false, closed: new Date(now.getTime() - 2 * DAY) }],
      ['live', { running: true }],
      ['failed', { running: false, closed: now }],
    ]);
    // While `live` runs: only the old run's working state goes; the failed run closed within the day.
    const busy = await planGc(store, runs, DAY, now);
    assert.deepEqual(busy.delete.map((o) => o.key).sort(), [
      'runs/old/checkpoints/gd/000000000100/manifest.json',
      'runs/old/checkpoints/gd/000000000100/state.safetensors',
    ]);
    assert.deepEqual(busy.running, ['live']);
    assert.equal(busy.bytes, 4096 + 2);
    assert.ok(busy.kept['cache (runs in flight)']! >= 5);

    // Nothing running, cutoff now: everything but results, index and what a kept result names.
    runs.set('live', { running: false, closed: now });
    const idle = await planGc(store, runs, 0, new Date(now.getTime() + 1000));
    const doomed = idle.delete.map((o) => o.key);
    const json = doomed.filter((k) => k.endsWith('.json'));
    assert.deepEqual(
      doomed.slice(0, json.length),
      json,
      'manifests and answers are deleted before the data they commit or name',
    );
    assert.equal(await applyGc(store, idle), doomed.length);
    assert.deepEqual(await store.list(''), [
      'cache/minima/named/000000000010/manifest.json',
      'cache/minima/named/000000000010/state.safetensors',
      'index/runs/old.json',
      'runs/old/artifacts/report.html',
      'runs/old/path/seed-1/0.json',
      'runs/old/result.json',
    ]);
    assert.equal(all.length - 6, doomed.length);
  },
);

test('gc aborts on a storage error: an object it cannot read never counts as naming nothing', async () => {
  const store = makeObjectStore(testConfig({ 's3.prefix': `gc-err-${randomUUID().slice(0, 8)}/` }));
  await store.put(
    'runs/kept/result.json',
    Buffer.from(JSON.stringify({ m: { key: 'cache/minima/x/000000000001/manifest.json' } })),
  );
  await store.put('cache/minima/x/000000000001/manifest.json', Buffer.from('{}'));
  await store.put('cache/minima/x/000000000001/state.safetensors', Buffer.alloc(16));
  // The real S3 server answers every call but one: a read of the result fails as a 503 would.
  const flaky: ObjectStore = Object.create(store, {
    get: {
      value: async (key: string) => {
        if (key === 'runs/kept/result.json') throw Object.assign(new Error('SlowDown: 503'), { name: 'SlowDown' });
        return store.get(key);
      },
    },
  });
  const runs = new Map<string, RunState>([['kept', { running: false, closed: new Date(0) }]]);
  await assert.rejects(planGc(flaky, runs, 0, new Date(Date.now() + 1000)), /SlowDown/);
  assert.equal((await store.list('cache/')).length, 2, 'nothing was deleted');
});

test('gc re-checks before deleting: a run restarted since the plan, and objects rewritten since, stay', async () => {
  const store = makeObjectStore(testConfig({ 's3.prefix': `gc-race-${randomUUID().slice(0, 8)}/` }));
  await store.put('runs/again/units/u/000000000001/manifest.json', Buffer.from('{}'));
  await store.put('runs/again/units/u/000000000001/state.safetensors', Buffer.alloc(16));
  await store.put('runs/gone/units/u/000000000001/manifest.json', Buffer.from('{}'));
  await store.put('cache/minima/c/000000000001/manifest.json', Buffer.from('{}'));
  const closed = new Date(Date.now() - 60_000);
  const runs = new Map<string, RunState>([
    ['again', { running: false, closed }],
    ['gone', { running: false, closed }],
  ]);
  const plan = await planGc(store, runs, 1000, new Date(Date.now() + 2000));
  assert.equal(plan.delete.length, 4, 'all four planned');
  // Between plan and apply: `again` is resumed, and a cache entry is rewritten by a run.
  await new Promise((r) => setTimeout(r, 1100));
  await store.put('cache/minima/c/000000000001/manifest.json', Buffer.from('{"rewritten":true}'));
  const deleted = await applyGc(
    store,
    { ...plan, cutoff: Date.now() - 500 },
    {
      run: async (id) => (id === 'again' ? { running: true } : runs.get(id)),
      anyRunning: async () => false,
    },
  );
  assert.equal(deleted, 1, 'only the run that stayed closed lost its objects');
  assert.deepEqual(await store.list('runs/gone/'), []);
  assert.equal((await store.list('runs/again/')).length, 2, 'the resumed run keeps its checkpoint');
  assert.equal((await store.list('cache/')).length, 1, 'the rewritten cache entry stays');
  const busy = await planGc(store, new Map([['x', { running: false, closed }]]), 0, new Date(Date.now() + 60_000));
  const cacheDeleted = await applyGc(store, busy, {
    run: async () => ({ running: true }),
    anyRunning: async () => true,
  });
  assert.equal(cacheDeleted, 0, 'no cache entry goes while a run is in flight at apply time');
});

const conf = { ...uniqueQueues(), 's3.prefix': `gc-cli-${randomUUID().slice(0, 8)}/` };
const config = testConfig(conf);
const store = makeObjectStore(config);
let workers: Awaited<ReturnType<typeof inProcessWorkers>>;
before(async () => {
  workers = await inProcessWorkers(config, store);
});
after(async () => {
  await workers.stop();
});

test("repro gc: a dry run by default; --apply deletes a finished run's checkpoints and keeps its results", async () => {
  const plan = planRun('fig7', 'default', []);
  const result = await awaitResult(
    await startRun(
      workers.env.client,
      config,
      plan.experiment,
      'default',
      plan.params,
      1,
      `gc-${randomUUID().slice(0, 8)}`,
      true, // --no-cache: its units checkpoint under the run's own prefix
    ),
    store,
  );
  const checkpoints = await store.list(`runs/${result.runId}/units/`);
  assert.ok(checkpoints.length > 0, 'the run checkpointed');
  const bad = runCli(['gc', '--older-than', 'soon', ...confArgs(conf)]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--older-than soon: give a duration such as 90s, 12h or 7d/);

  const dry = runCli(['gc', '--older-than', '0s', '--json', ...confArgs(conf)]);
  assert.equal(dry.status, 0, dry.stderr);
  const planned = JSON.parse(dry.stdout) as { applied: boolean; keys: string[]; bytes: number };
  assert.equal(planned.applied, false);
  for (const k of checkpoints) assert.ok(planned.keys.includes(k), `would delete ${k}`);
  assert.ok(
    !planned.keys.some((k) => /\/(result\.json|artifacts\/)/.test(k) || k.startsWith('index/')),
    'never results or the index',
  );
  assert.deepEqual(await store.list(`runs/${result.runId}/units/`), checkpoints, 'a dry run deletes nothing');
  const text = runCli(['gc', '--older-than', '0s', ...confArgs(conf)]);
  assert.match(text.stdout, /would delete \d+ objects, [\d.]+ [KMG]iB; run again with --apply/);

  const applied = runCli(['gc', '--older-than', '0s', '--apply', ...confArgs(conf)]);
  assert.equal(applied.status, 0, applied.stderr);
  assert.match(applied.stdout, /deleted \d+ objects/);
  assert.deepEqual(await store.list(`runs/${result.runId}/units/`), []);
  const results = runCli(['results', result.runId, '--json', ...confArgs(conf)]);
  assert.equal(results.status, 0, results.stderr);
  assert.equal((JSON.parse(results.stdout) as { runId: string }).runId, result.runId, 'the results are intact');
});

test(
  'after gc --older-than 1s --apply, re-running a finished projected path with the same seed ' +
    'gives the same claims',
  async () => {
    const sets = [
      'model=mlp:49-20-10',
      'samples=200',
      'valSamples=100',
      'epochs=2',
      'seeds=1',
      'batch=20',
      'lr=0.5',
      'threshold=0.75',
      'probes=8',
    ];
    const plan = planRun('projected-path', 'small', sets);
    const run = async (): Promise<Awaited<ReturnType<typeof awaitResult>>> =>
      awaitResult(
        await startRun(
          workers.env.client,
          config,
          plan.experiment,
          'small',
          plan.params,
          2,
          `gcpp-${randomUUID().slice(0, 8)}`,
        ),
        store,
      );
    const first = await run();
    await new Promise((r) => setTimeout(r, 1500));
    const applied = runCli(['gc', '--older-than', '1s', '--apply', '--json', ...confArgs(conf)]);
    assert.equal(applied.status, 0, applied.stderr);
    assert.ok(
      (JSON.parse(applied.stdout) as { deleted: number }).deleted > 0,
      `gc collected the cache: ${applied.stdout}`,
    );
    const second = await run();
    assert.deepEqual(
      second.claims.map((c) => [c.id, c.measured, c.verdict]),
      first.claims.map((c) => [c.id, c.measured, c.verdict]),
    );
  },
);
