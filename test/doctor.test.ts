/**
 * `repro doctor` against the real test stack: every check passes with a worker on each queue
 * (whose backend shows in its poller identity); a missing bucket, a queue nobody polls and a
 * namespace without repro's search attributes fail with their fixes, and the exit status is 1.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { confArgs, runCli, startWorker, uniqueQueues, type WorkerProcess } from './helpers';

interface Check {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
}
const queues = uniqueQueues();
let worker: WorkerProcess;
before(async () => {
  worker = startWorker(queues);
  await worker.waitFor((e) => e.event === 'worker-ready', 60_000);
});
after(async () => {
  worker.child.kill('SIGTERM');
  await worker.exited;
});

function doctor(conf: Record<string, string>): { status: number | null; checks: Check[] } {
  const r = runCli(['doctor', '--json', ...confArgs(conf)]);
  return { status: r.status, checks: JSON.parse(r.stdout) as Check[] };
}

test('doctor: all checks pass with workers on both queues; pollers name their backend', () => {
  const { status, checks } = doctor(queues);
  assert.deepEqual(
    checks.filter((c) => !c.ok),
    [],
  );
  assert.equal(status, 0);
  const gpu = checks.find((c) => c.check.startsWith(`gpu queue ${queues['taskQueues.gpu']}`))!;
  assert.match(gpu.detail, /\d+@\S+ (torch|wasm|cpu) \(/, 'the poller identity names its backend');
  assert.ok(checks.some((c) => c.check === 'search attributes' && c.detail === '7 registered'));
});

test(
  'doctor: a missing bucket, an unpolled queue and a namespace without the search attributes ' + 'fail with fixes',
  () => {
    const { status, checks } = doctor({
      ...queues,
      's3.bucket': `absent-${randomUUID().slice(0, 8)}`,
      'taskQueues.gpu': 'nobody-polls-this',
    });
    assert.equal(status, 1);
    const s3 = checks.find((c) => c.check === 'S3 bucket')!;
    assert.equal(s3.ok, false);
    assert.match(s3.detail, /does not exist/);
    assert.match(s3.fix!, /s3\.bucket/);
    const gpu = checks.find((c) => c.check.startsWith('gpu queue nobody-polls-this'))!;
    assert.equal(gpu.ok, false);
    assert.match(gpu.fix!, /repro worker --queue gpu/);
    const other = doctor({ ...queues, 'temporal.namespace': 'no-such-namespace' });
    const ns = other.checks.find((c) => c.check === 'namespace')!;
    assert.equal(ns.ok, false);
    assert.match(ns.fix!, /temporal operator namespace create no-such-namespace/);
  },
);
