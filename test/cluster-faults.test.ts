/**
 * What a cluster meets, with real worker processes and the real S3 server behind a fault-injecting
 * proxy (test/s3-proxy.ts): S3 throttling (503 SlowDown), an S3 outage longer than the SDK's own
 * retries, a worker killed in the middle of a multipart checkpoint upload, the same activity
 * running twice at once after a heartbeat timeout (a frozen worker that wakes up), and a worker
 * whose temp dir is a full disk. Each run must end with the results of an undisturbed run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Client, Connection } from '@temporalio/client';
import { connectTemporal, makeObjectStore } from '../infra/clients';
import { awaitResult, startRun } from '../infra/cli/runs';
import { fig7Params } from '../src/experiments/fig7/definition';
import { advance, initialState, VARIANTS } from '../src/experiments/fig7/toy';
import { planRun } from '../src/experiments/registry';
import type { RunResult } from '../src/results/run-result';
import { sleep, startWorker, testConfig, uniqueQueues, type WorkerProcess } from './helpers';
import { startS3Proxy, type S3Proxy } from './s3-proxy';

const conf = { ...uniqueQueues(), 'timeouts.heartbeatMs': '3000' };
const config = testConfig(conf);
let temporal: { client: Client; connection: Connection };
let proxy: S3Proxy;

before(async () => {
  temporal = await connectTemporal(config);
  proxy = await startS3Proxy(config.s3.endpoint);
});
after(async () => {
  await temporal.connection.close();
  await proxy.close();
});

type PathResult = RunResult & { path: unknown[] };

/** A projected path with training checkpointed often (many S3 writes) and cheap projections. */
const PATH_SETS = [
  'model=mlp:49-20-10',
  'samples=400',
  'valSamples=100',
  'batch=20',
  'epochs=4',
  'seeds=1',
  'lr=0.1',
  'threshold=2.5',
  'probes=4',
  'traceStride=2',
  'checkpointEvery=5',
];

async function runPath(sets: string[], id: string): Promise<PathResult> {
  const { experiment, params } = planRun('projected-path', 'small', sets);
  const handle = await startRun(temporal.client, config, experiment, 'small', params, 1, id, true);
  return (await awaitResult(handle, makeObjectStore(config))) as PathResult;
}

/** The undisturbed run of `sets`, on a worker that talks to S3 directly. */
async function reference(sets: string[]): Promise<PathResult> {
  const w = startWorker(conf);
  try {
    await w.waitFor((e) => e.event === 'worker-ready');
    return await runPath(sets, `ref-${randomUUID().slice(0, 8)}`);
  } finally {
    w.child.kill('SIGTERM');
    await w.exited;
  }
}

const throughProxy = (): WorkerProcess => startWorker({ ...conf, 's3.endpoint': proxy.endpoint });

test('S3 throttling: one request in four answered 503 SlowDown; the run ends as an undisturbed one', async () => {
  const expected = await reference(PATH_SETS);
  let n = 0;
  proxy.throttle = () => ++n % 4 === 0;
  const w = throughProxy();
  try {
    await w.waitFor((e) => e.event === 'worker-ready');
    const result = await runPath(PATH_SETS, `throttle-${randomUUID().slice(0, 8)}`);
    assert.ok(n > 40, `the proxy saw the run's requests (${n})`);
    assert.deepEqual(result.path, expected.path);
    assert.deepEqual(
      result.claims.map((c) => [c.id, c.measured]),
      expected.claims.map((c) => [c.id, c.measured]),
    );
  } finally {
    proxy.throttle = () => false;
    w.child.kill('SIGTERM');
    await w.exited;
  }
});

test('an S3 outage of 40 s, longer than the SDK retries: activities retry until it is back; same result', async () => {
  const expected = await reference(PATH_SETS);
  const w = throughProxy();
  const id = `outage-${randomUUID().slice(0, 8)}`;
  try {
    await w.waitFor((e) => e.event === 'worker-ready');
    const done = runPath(PATH_SETS, id);
    await w.waitFor((e) => e.event === 'checkpoint' && e.runId === id, 120_000);
    proxy.down = true;
    await sleep(40_000);
    proxy.down = false;
    const result = await done;
    assert.ok(
      w.events.some((e) => e.event === 'resume' && e.runId === id && Number(e.attempt) > 1),
      'an activity failed on the outage and ran again',
    );
    assert.deepEqual(result.path, expected.path);
  } finally {
    proxy.down = false;
    w.child.kill('SIGTERM');
    await w.exited;
  }
});

test('a worker killed during a multipart checkpoint upload: nothing partial is read; same result', async () => {
  // 2.4 M parameters: a state with its velocity is 19 MB, a multipart upload (parts of 8 MiB).
  const sets = [
    'model=mlp:784-3000-10',
    'samples=100',
    'valSamples=50',
    'batch=50',
    'epochs=2',
    'seeds=1',
    'lr=0.01',
    'threshold=5',
    'probes=4',
    'traceStride=100',
    'checkpointEvery=1',
  ];
  const expected = await reference(sets);
  const id = `multipart-${randomUUID().slice(0, 8)}`;
  proxy.seen = [];
  proxy.delayMs = 0;
  const a = throughProxy();
  let b: WorkerProcess | undefined;
  try {
    await a.waitFor((e) => e.event === 'worker-ready');
    proxy.delayMs = 1500; // each request held back: an upload stays in flight for seconds
    const done = runPath(sets, id);
    // Kill once a multipart upload of this run has sent parts but not completed.
    const inFlight = (): boolean => {
      const started = proxy.seen.filter(
        (r) => r.method === 'POST' && r.url.includes(id) && /[?&]uploads\b/.test(r.url),
      );
      const parts = proxy.seen.filter((r) => r.method === 'PUT' && r.url.includes(id) && /partNumber=/.test(r.url));
      const completed = proxy.seen.filter((r) => r.method === 'POST' && r.url.includes(id) && /uploadId=/.test(r.url));
      return started.length > completed.length && parts.length > 0;
    };
    while (!inFlight()) await sleep(50);
    a.child.kill('SIGKILL');
    await a.exited;
    proxy.delayMs = 0;
    b = throughProxy();
    const result = await done;
    assert.deepEqual(result.path, expected.path);
    assert.ok(
      b.events.some((e) => e.event === 'resume' && e.runId === id),
      'the second worker resumed from the last committed checkpoint',
    );
  } finally {
    proxy.delayMs = 0;
    a.child.kill('SIGKILL');
    if (b) {
      b.child.kill('SIGTERM');
      await b.exited;
    }
  }
});

test('the same unit twice at once: a frozen worker wakes after its retry started elsewhere; same result', async () => {
  const { experiment, params } = planRun('fig7', 'default', ['steps=20000000', 'checkpointEvery=1000000']);
  const id = `twice-${randomUUID().slice(0, 8)}`;
  const a = startWorker(conf);
  let b: WorkerProcess | undefined;
  try {
    await a.waitFor((e) => e.event === 'worker-ready');
    const handle = await startRun(temporal.client, config, experiment, 'default', params, 9, id, true);
    await a.waitFor((e) => e.event === 'checkpoint' && e.runId === id, 60_000);
    a.child.kill('SIGSTOP'); // frozen: no heartbeats; the server times the attempts out
    b = startWorker(conf);
    await b.waitFor((e) => e.event === 'resume' && e.runId === id && Number(e.attempt) >= 2, 120_000);
    a.child.kill('SIGCONT'); // both now run the unit(s) at once, writing under the same key
    const result = await awaitResult(handle, makeObjectStore(config));
    const p = fig7Params.check('fig7', params);
    const undisturbed = Object.fromEntries(
      VARIANTS.map((v) => {
        const s = initialState(p);
        advance(s, p, v, 9, p.steps);
        return [v, [s.theta1, s.theta2]];
      }),
    );
    assert.deepEqual((result.summary as { final: unknown }).final, undisturbed);
  } finally {
    a.child.kill('SIGCONT');
    a.child.kill('SIGKILL');
    if (b) {
      b.child.kill('SIGTERM');
      await b.exited;
    }
  }
});

test("a full disk in the worker's temp dir: nothing a worker does needs it; same result", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return t.skip('mounting a small tmpfs is refused here (needs root); the full-disk case is not checked');
  }
  let w: WorkerProcess | undefined;
  try {
    // Fill it: any write there fails with ENOSPC.
    assert.throws(() => writeFileSync(path.join(dir, 'fill'), Buffer.alloc(128 * 1024)), /ENOSPC/);
    const expected = await reference(PATH_SETS);
    w = startWorker(conf, { TMPDIR: dir, TMP: dir, TEMP: dir });
    await w.waitFor((e) => e.event === 'worker-ready');
    const result = await runPath(PATH_SETS, `fulldisk-${randomUUID().slice(0, 8)}`);
    assert.deepEqual(result.path, expected.path);
  } finally {
    if (w) {
      w.child.kill('SIGTERM');
      await w.exited;
    }
    execFileSync('umount', [dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
});
