/**
 * The pod's deletion cost against a local HTTPS server standing in for the API server's pods
 * endpoint (a CA made here by openssl, as the cluster's is mounted): the patch's path, content
 * type, bearer token and body, the debouncing, and what a failure logs and retries.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gpuWorkerPlan } from '../../infra/worker/child-workers';
import {
  DeletionCost,
  inClusterTarget,
  patchDeletionCost,
  POD_DELETION_COST,
  type PodTarget,
} from '../../infra/worker/pod-deletion-cost';
import { makeCertificates } from '../certificates';
import { resolveConfig } from '../../temporal.config';

interface Seen {
  method: string;
  url: string;
  contentType: string;
  authorization: string;
  body: unknown;
}

let dir: string;
let server: https.Server;
const seen: Seen[] = [];
/** What the stand-in answers next: a status and a Kubernetes Status message. */
let answer: { status: number; message?: string } = { status: 200 };
let env: Record<string, string>;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'repro-pod-cost-'));
  makeCertificates(dir);
  // The service account's mount: the token and the cluster's CA.
  writeFileSync(path.join(dir, 'token'), 'sa-token-1\n');
  writeFileSync(path.join(dir, 'ca.crt'), readFileSync(path.join(dir, 'ca.pem')));
  server = https.createServer(
    { cert: readFileSync(path.join(dir, 'server.pem')), key: readFileSync(path.join(dir, 'server.key')) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method!,
          url: req.url!,
          contentType: req.headers['content-type'] ?? '',
          authorization: req.headers.authorization ?? '',
          body: JSON.parse(Buffer.concat(chunks).toString()),
        });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.status < 300 ? {} : { kind: 'Status', message: answer.message }));
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  env = {
    POD_NAME: 'r-repro-gpu-7d9f-abcde',
    POD_NAMESPACE: 'ml',
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: String((server.address() as AddressInfo).port),
  };
});

after(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const target = (): PodTarget => {
  const t = inClusterTarget(env, dir);
  assert.ok(!('missing' in t), JSON.stringify(t));
  return t;
};

const costIn = (s: Seen): unknown =>
  (s.body as { metadata: { annotations: Record<string, string> } }).metadata.annotations[POD_DELETION_COST];

test('the target is found only with the downward API, the service variables and the mounted account', () => {
  assert.match(String((inClusterTarget({ ...env, POD_NAME: '' }, dir) as { missing: string }).missing), /POD_NAME/);
  const noMount = inClusterTarget(env, path.join(dir, 'absent')) as { missing: string };
  assert.match(noMount.missing, /no service-account token and CA in .*absent \(ENOENT\)/);
  const t = target();
  assert.equal(
    t.url,
    `https://127.0.0.1:${env.KUBERNETES_SERVICE_PORT}/api/v1/namespaces/ml/pods/r-repro-gpu-7d9f-abcde`,
  );
});

test('one patch: PATCH of the pod, a JSON merge-patch of the annotation, the bearer token, the CA', async () => {
  seen.length = 0;
  answer = { status: 200 };
  await patchDeletionCost(target(), 3);
  assert.equal(seen.length, 1);
  const s = seen[0]!;
  assert.equal(s.method, 'PATCH');
  assert.equal(s.url, '/api/v1/namespaces/ml/pods/r-repro-gpu-7d9f-abcde');
  assert.equal(s.contentType, 'application/merge-patch+json');
  assert.equal(s.authorization, 'Bearer sa-token-1');
  assert.deepEqual(s.body, { metadata: { annotations: { [POD_DELETION_COST]: '3' } } });
  // A rotated token is read at the next patch.
  writeFileSync(path.join(dir, 'token'), 'sa-token-2\n');
  await patchDeletionCost(target(), 0);
  assert.equal(seen[1]!.authorization, 'Bearer sa-token-2');
  // A server whose certificate another CA signed is refused.
  const strange = { ...target(), ca: readFileSync(path.join(dir, 'stranger.pem')) };
  await assert.rejects(patchDeletionCost(strange, 1), /certificate/);
});

test('a 403 names the RBAC rule that is missing', async () => {
  answer = {
    status: 403,
    message: 'pods "r-repro-gpu-7d9f-abcde" is forbidden: User "system:serviceaccount:ml:r-repro"',
  };
  await assert.rejects(patchDeletionCost(target(), 1), (err: Error) => {
    assert.match(
      err.message,
      /^HTTP 403 .*verbs get and patch on resource pods .* in namespace ml, bound by a RoleBinding/,
    );
    assert.match(err.message, /workers\.podDeletionCost\.enabled .*is forbidden/);
    return true;
  });
  answer = { status: 200 };
});

test('debounced: changes within the interval become one patch of the latest count', async () => {
  seen.length = 0;
  answer = { status: 200 };
  const logs: Array<Record<string, unknown>> = [];
  const cost = new DeletionCost({ target: target(), log: (e) => logs.push(e), minIntervalMs: 400 });
  cost.set(0);
  await sleep(150);
  assert.deepEqual(seen.map(costIn), ['0'], 'the first count at once');
  cost.set(1);
  cost.set(2);
  cost.set(1);
  await sleep(100);
  assert.equal(seen.length, 1, 'not before the interval');
  await sleep(400);
  assert.deepEqual(seen.map(costIn), ['0', '1'], 'the latest count, once');
  cost.set(1);
  await sleep(500);
  assert.equal(seen.length, 2, 'an unchanged count is not sent again');
  await cost.close();
  cost.set(5);
  await sleep(100);
  assert.equal(seen.length, 2, 'nothing after close');
  assert.deepEqual(logs, []);
});

test('a failure is logged once, retried later, and its recovery logged; it never throws', async () => {
  seen.length = 0;
  answer = { status: 403, message: 'forbidden' };
  const logs: Array<Record<string, unknown>> = [];
  const cost = new DeletionCost({ target: target(), log: (e) => logs.push(e), minIntervalMs: 50, retryMs: 400 });
  cost.set(2);
  await sleep(100);
  assert.equal(seen.length, 1);
  cost.set(3);
  await sleep(100);
  assert.equal(seen.length, 1, 'a retry waits retryMs, not minIntervalMs');
  await sleep(350);
  assert.equal(seen.length, 2, 'retried');
  assert.deepEqual(
    logs.map((l) => l.event),
    ['pod-deletion-cost-failed'],
    'the same error is logged once',
  );
  assert.match(String(logs[0]!.error), /HTTP 403/);
  answer = { status: 200 };
  await sleep(500);
  assert.equal(seen.length, 3);
  assert.equal(costIn(seen[2]!), '3');
  assert.deepEqual(logs.at(-1), { event: 'pod-deletion-cost-recovered', cost: 3 });
  await cost.close();
});

test('worker.podDeletionCost: off by default, on from REPRO_WORKER_POD_DELETION_COST; GPU children never patch', () => {
  assert.equal(resolveConfig().worker.podDeletionCost, false);
  assert.equal(resolveConfig({ env: { REPRO_WORKER_POD_DELETION_COST: 'true' } }).worker.podDeletionCost, true);
  const [child] = gpuWorkerPlan(['0'], 4, {}, [{ metricsPort: 1, sdkMetricsPort: 2 }]);
  // Children inherit the parent's environment: their flag turns it off, and the parent patches the sum.
  assert.ok(child!.args.join(' ').includes('--conf worker.podDeletionCost=false'));
});
