/**
 * No secret in the clear anywhere a run leaves traces: the codec key, the Temporal API key, the
 * S3 secret key and a CIFAR mirror's credentials never appear in a stored workflow history (nor
 * inside its payloads once decrypted), in any S3 object of the run, of the cache or of the index,
 * in the worker's log, or in the CLI's output. Covered: a study, a projected path and a failed
 * run, with payload encryption on, and the API key checked by the TLS front of `repro up`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { makeObjectStore } from '../infra/clients';
import { AesGcmCodec } from '../infra/codec';
import { hostPort, portOpen } from '../infra/stack/processes';
import type { FrontSpec } from '../infra/stack/temporal-front';
import { makeCertificates } from './certificates';
import { confArgs, ROOT, runCli, startWorker, testConfig, uniqueQueues, type WorkerProcess } from './helpers';

const codecKey = randomBytes(32).toString('base64');
const apiKey = `api-key-${randomUUID()}`;
const mirrorUser = `mirror-user-${randomUUID().slice(0, 8)}`;
const mirrorPassword = `mirror-pass-${randomUUID()}`;
const plain = testConfig();
const secrets = [codecKey, apiKey, mirrorUser, mirrorPassword, plain.s3.secretAccessKey];
const certs = mkdtempSync(path.join(os.tmpdir(), 'repro-secrets-'));
const queues = uniqueQueues();
let front: ChildProcess;
let frontAddress = '';
let worker: WorkerProcess;
let workerStderr = '';
/** Every CLI call's output, searched at the end. */
const cliOutput: string[] = [];

/** The secrets reach the worker and the CLI as a user gives them: environment variables, not argv. */
const secretEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  REPRO_CODEC_KEY: codecKey,
  REPRO_TEMPORAL_API_KEY: apiKey,
  REPRO_DATA_CIFAR_MIRROR: `https://${mirrorUser}:${mirrorPassword}@mirror.invalid/cifar`,
});
const conf = (): Record<string, string> => ({
  ...queues,
  'temporal.address': frontAddress,
  'temporal.tls.caPath': path.join(certs, 'ca.pem'),
  'temporal.tls.serverName': 'localhost',
});
function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = runCli([...args, ...confArgs(conf())], secretEnv());
  cliOutput.push(`$ repro ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r;
}

before(async () => {
  makeCertificates(certs);
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  frontAddress = `127.0.0.1:${port}`;
  // The front `repro up` puts before a dev server it serves to other hosts: it checks the API key.
  const spec: FrontSpec = {
    listen: { host: '127.0.0.1', port },
    upstream: hostPort(plain.temporal.address, 7233),
    certPath: path.join(certs, 'server.pem'),
    keyPath: path.join(certs, 'server.key'),
    clientCaPath: '',
    apiKeySha256: createHash('sha256').update(apiKey).digest('hex'),
  };
  writeFileSync(path.join(certs, 'front.json'), JSON.stringify(spec));
  front = spawn(
    process.execPath,
    [path.join(ROOT, 'dist/infra/stack/temporal-front.js'), path.join(certs, 'front.json')],
    {
      stdio: 'ignore',
    },
  );
  while (!(await portOpen('127.0.0.1', port))) await new Promise((r) => setTimeout(r, 100));
  worker = startWorker(conf(), secretEnv());
  worker.child.stderr!.on('data', (c: Buffer) => (workerStderr += c.toString()));
  await worker.waitFor((e) => e.event === 'worker-ready');
});
after(async () => {
  worker.child.kill('SIGTERM');
  await worker.exited;
  front.kill('SIGTERM');
});

/** Every payload of a history in proto JSON (bytes in base64), opened with the codec where encrypted. */
async function decodedPayloads(history: unknown, codec: AesGcmCodec): Promise<string[]> {
  const found: Array<{ metadata: Record<string, string>; data?: string }> = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    const o = node as Record<string, unknown>;
    const encoding = (o.metadata as Record<string, string> | undefined)?.encoding;
    if (typeof encoding === 'string' && Buffer.from(encoding, 'base64').toString() === 'binary/encrypted')
      found.push(o as { metadata: Record<string, string>; data?: string });
    Object.values(o).forEach(walk);
  };
  walk(history);
  const b = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64');
  const opened = await codec.decode(
    found.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, b(v)])),
      data: b(p.data),
    })),
  );
  return opened.map((p) => Buffer.from(p.data ?? []).toString('latin1'));
}

function assertClean(text: string, where: string): void {
  for (const s of secrets) assert.ok(!text.includes(s), `a secret (${s.slice(0, 12)}...) is in the clear in ${where}`);
}

test('no secret in histories, payloads, S3, worker logs or CLI output of a study, a path and a failure', async () => {
  const seed = String(randomInt(1_000_000));
  const runs = {
    study: { args: ['run', 'fig2b', '--preset', 'small', '--seed', seed], status: [0, 3] },
    path: {
      args: [
        'run',
        'projected-path',
        '--preset',
        'small',
        '--seed',
        seed,
        ...[
          'model=mlp:49-20-10',
          'samples=200',
          'valSamples=100',
          'epochs=2',
          'seeds=1',
          'batch=20',
          'lr=0.5',
          'threshold=0.75',
          'probes=8',
        ].flatMap((s) => ['--set', s]),
      ],
      status: [0, 3],
    },
    failed: {
      args: ['run', 'fig7', '--preset', 'quick', '--set', 'noise=1e300', '--set', 'steps=2000', '--seed', seed],
      status: [1],
    },
  };
  const codec = new AesGcmCodec(Buffer.from(codecKey, 'base64'));
  const store = makeObjectStore(plain);
  let decoded = 0;
  for (const [name, run] of Object.entries(runs)) {
    const id = `secrets-${name}-${randomUUID().slice(0, 8)}`;
    const r = cli([...run.args, '--id', id, '--wait']);
    assert.ok(run.status.includes(r.status!), `${name}: exit ${r.status}: ${r.stderr}`);
    if (name === 'failed') assert.match(r.stderr, /diverged before step/, 'the key holder reads the failure');
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'secrets-export-')), 'run');
    const exported = cli(['export', id, dir]);
    assert.equal(exported.status, 0, exported.stderr);
    const files = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name));
    const histories = files.filter((f) => f.includes(`${path.sep}histories${path.sep}`));
    assert.ok(histories.length > 0, `${name}: its histories are exported`);
    for (const f of files) assertClean(readFileSync(f, 'latin1'), f);
    for (const f of histories) {
      const payloads = await decodedPayloads(JSON.parse(readFileSync(f, 'utf8')), codec);
      decoded += payloads.length;
      for (const p of payloads) assertClean(p, `a decrypted payload of ${f}`);
    }
    for (const key of await store.list(`runs/${id}/`))
      assertClean(Buffer.from(await store.get(key)).toString('latin1'), `s3 ${key}`);
  }
  assert.ok(decoded > 20, `the histories' payloads were decrypted and searched (${decoded})`);
  const shared = [...(await store.list('cache/')), ...(await store.list('index/'))];
  assert.ok(
    shared.some((k) => k.endsWith('manifest.json')),
    'cache manifests (with their saved config) are searched',
  );
  let savedConfigs = 0;
  for (const key of shared) {
    const text = Buffer.from(await store.get(key)).toString('latin1');
    assertClean(text, `s3 ${key}`);
    if (text.includes('https://***@mirror.invalid/cifar')) savedConfigs++;
  }
  assert.ok(savedConfigs > 0, "this test's saved configs (mirror masked) are among the objects searched");
  assertClean(JSON.stringify(worker.events) + workerStderr, 'the worker log');
  assertClean(cliOutput.join('\n'), 'the CLI output');
});
