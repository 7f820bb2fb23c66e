/**
 * `repro up` / `repro down` on their own ports and data folder: idempotent start, clean stop;
 * secrets kept out of the servers' environments; a pid file whose pid now names another process
 * never gets that process signalled; served to other hosts only through a TLS front that
 * authenticates, with per-install S3 keys, everything else on loopback.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { checkS3, connectTemporal } from '../infra/clients';
import { loadConfig } from '../infra/load-config';
import { portOpen, processIdentity, runningPid } from '../infra/stack/processes';
import { makeCertificates } from './certificates';
import { runCli, startWorker, uniqueQueues, type WorkerProcess } from './helpers';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'repro-stack-'));
const env = {
  ...process.env,
  REPRO_TEMPORAL_ADDRESS: '127.0.0.1:27233',
  REPRO_TEMPORAL_UI_PORT: '28233',
  REPRO_S3_ENDPOINT: 'http://127.0.0.1:29000',
  REPRO_S3_CONSOLE_PORT: '0',
  REPRO_DATA_DIR: dataDir,
};
// Secrets the servers must not inherit from whoever runs `up`.
const secrets = {
  REPRO_CODEC_KEY: randomBytes(32).toString('base64'),
  REPRO_CODEC_SERVER_TOKEN: `token-${randomUUID()}`,
  AWS_SESSION_TOKEN: `session-${randomUUID()}`,
  REPRO_DATA_CIFAR_MIRROR: `https://mirror-user:mirror-${randomUUID()}@mirror.example/cifar`,
};
after(() => {
  runCli(['down'], env);
  rmSync(dataDir, { recursive: true, force: true });
});

/** A running process's environment variables (Linux). */
function environOf(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'latin1')
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

function assertNoSecrets(dir: string, names: string[], values: string[]): void {
  for (const name of names) {
    const pid = runningPid(dir, name);
    assert.ok(pid, `${name} runs`);
    const text = JSON.stringify(environOf(pid));
    for (const v of values) assert.ok(!text.includes(v), `${name}'s environment holds a secret`);
  }
}

test('up starts both servers, a second up finds them running, down stops them', async () => {
  const first = runCli(['up', '--json'], { ...env, ...secrets });
  assert.equal(first.status, 0, first.stderr);
  const a = JSON.parse(first.stdout);
  assert.deepEqual(a.started.sort(), ['s3', 'temporal']);
  assert.equal(a.webUi, 'http://127.0.0.1:28233');
  assert.ok(await portOpen('127.0.0.1', 28233), 'Web UI answers');
  assertNoSecrets(dataDir, ['temporal', 's3'], Object.values(secrets));

  const second = JSON.parse(runCli(['up', '--json'], env).stdout);
  assert.deepEqual(second.started, []);
  assert.deepEqual(second.alreadyRunning.sort(), ['s3', 'temporal']);

  const down = runCli(['down'], env);
  assert.equal(down.status, 0);
  assert.match(down.stdout, /stopped: temporal, s3/);
  assert.equal(await portOpen('127.0.0.1', 27233), false);
  assert.equal(await portOpen('127.0.0.1', 29000), false);
  assert.match(runCli(['down'], env).stdout, /nothing was running/);
});

test('up refuses a non-loopback Temporal address with the fix', () => {
  const r = runCli(['up', '--conf', 'temporal.address=temporal.example.com:7233'], env);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^Error: temporal.address is temporal.example.com:7233: `repro up` only starts servers on this machine/,
  );
});

test('down leaves alone a live process that took over a pid a pid file records', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'repro-stale-'));
  const stranger = spawn('sleep', ['600'], { stdio: 'ignore' });
  try {
    const pid = stranger.pid!;
    // An older repro's pid file (the pid alone), and one whose recorded start time is not this process's.
    writeFileSync(path.join(dir, 'temporal.pid'), `${pid}\n`);
    writeFileSync(path.join(dir, 's3.pid'), JSON.stringify({ pid, started: '1', command: 'minio server --quiet' }));
    const r = runCli(['down'], { ...env, REPRO_DATA_DIR: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /nothing was running/);
    assert.equal(processIdentity(pid)?.command, 'sleep 600', 'the unrelated process is alive, not signalled');
  } finally {
    stranger.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A non-loopback IPv4 address of this machine, where one exists. */
const address = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
const noAddress = address ? false : 'this machine has no non-loopback IPv4 address';

/** Listening TCP sockets of a process: `host:port` as `ss` prints them. */
function listening(pid: number): string[] {
  const out = spawnSync('ss', ['-ltnpH'], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => l.trim().split(/\s+/)[3]!);
}

test(
  'up on a non-loopback address without TLS settings refuses in one line and starts nothing',
  { skip: noAddress },
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'repro-exposed-'));
    try {
      const r = runCli(['up'], {
        ...env,
        REPRO_TEMPORAL_ADDRESS: `${address}:27233`,
        REPRO_S3_ENDPOINT: `http://${address}:29000`,
        REPRO_DATA_DIR: dir,
      });
      assert.equal(r.status, 1, r.stdout);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^Error: temporal.address ${address}:27233 is not a loopback address: .* only over TLS with client ` +
            'authentication; set temporal.serverTls.certPath, temporal.serverTls.keyPath, temporal.apiKey',
        ),
      );
      for (const host of [address!, '127.0.0.1'])
        for (const port of [27233, 28233, 29000]) assert.equal(await portOpen(host, port), false, `${host}:${port}`);
    } finally {
      runCli(['down'], { ...env, REPRO_DATA_DIR: dir });
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'served to other hosts: an authenticating TLS front, the dev server, UI and console on loopback, ' +
    'S3 under per-install keys',
  { skip: noAddress },
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'repro-exposed-'));
    const certs = mkdtempSync(path.join(os.tmpdir(), 'repro-exposed-certs-'));
    makeCertificates(certs, `IP:${address}`);
    const apiKey = `api-${randomUUID()}`;
    const queues = uniqueQueues();
    const served = {
      ...env,
      ...secrets,
      REPRO_TEMPORAL_ADDRESS: `${address}:27233`,
      REPRO_S3_ENDPOINT: `http://${address}:29000`,
      REPRO_S3_CONSOLE_PORT: '29001',
      REPRO_DATA_DIR: dir,
      REPRO_TEMPORAL_SERVER_TLS_CERT: path.join(certs, 'server.pem'),
      REPRO_TEMPORAL_SERVER_TLS_KEY: path.join(certs, 'server.key'),
      REPRO_TEMPORAL_API_KEY: apiKey,
      REPRO_TEMPORAL_TLS_CA: path.join(certs, 'ca.pem'),
      REPRO_TASK_QUEUES_CPU: queues['taskQueues.cpu'],
      REPRO_TASK_QUEUES_GPU: queues['taskQueues.gpu'],
    };
    let worker: WorkerProcess | undefined;
    try {
      const up = runCli(['up', '--json'], served);
      assert.equal(up.status, 0, up.stderr);
      const a = JSON.parse(up.stdout);
      assert.deepEqual(a.started.sort(), ['s3', 'temporal', 'temporal-front']);
      assert.equal(a.webUi, 'http://127.0.0.1:28233');

      const credsFile = path.join(dir, 's3-credentials.json');
      assert.equal(a.s3Credentials, credsFile);
      assert.equal(statSync(credsFile).mode & 0o777, 0o600);
      const creds = readFileSync(credsFile, 'utf8');
      const { accessKeyId, secretAccessKey } = JSON.parse(creds) as Record<string, string>;
      assert.notEqual(accessKeyId, 'repro');
      assert.ok(secretAccessKey!.length >= 32 && secretAccessKey !== 'repro-secret-key');

      const pids = Object.fromEntries(['temporal', 'temporal-front', 's3'].map((n) => [n, runningPid(dir, n)!]));
      assertNoSecrets(dir, ['temporal', 'temporal-front'], [...Object.values(secrets), apiKey, secretAccessKey!]);
      // MinIO holds its own root password (MINIO_ROOT_PASSWORD), and nothing else secret.
      assertNoSecrets(dir, ['s3'], [...Object.values(secrets), apiKey]);
      const dev = listening(pids.temporal!);
      assert.ok(dev.includes('127.0.0.1:27233') && dev.includes('127.0.0.1:28233'), dev.join(' '));
      assert.ok(
        dev.every((a) => a.startsWith('127.0.0.1:')),
        `the dev server listens on loopback only: ${dev}`,
      );
      assert.deepEqual(listening(pids['temporal-front']!), [`${address}:27233`]);
      // MinIO opens its console after the S3 port: wait for it (up to 15 s) before reading its sockets.
      for (let t = 0; t < 150 && !listening(pids.s3!).includes('127.0.0.1:29001'); t++)
        await new Promise((r) => setTimeout(r, 100));
      const s3 = listening(pids.s3!);
      assert.ok(s3.includes(`${address}:29000`), s3.join(' '));
      assert.ok(s3.includes('127.0.0.1:29001'), `the console on loopback: ${s3}`);
      for (const a of [...dev, ...s3]) assert.ok(!/^(0\.0\.0\.0|\*|\[::\]):/.test(a), `${a} is every interface`);

      // This machine's clients: the config layer supplies the generated keys; the published ones are refused.
      const config = loadConfig({}, served);
      assert.equal(config.s3.secretAccessKey, secretAccessKey);
      await checkS3(config);
      const published = { ...config, s3: { ...config.s3, accessKeyId: 'repro', secretAccessKey: 'repro-secret-key' } };
      await assert.rejects(checkS3(published), /refused the credentials/);

      // Temporal through the front: the API key over TLS, or nothing.
      const ok = await connectTemporal(config);
      await ok.connection.close();
      for (const apiKeyTried of ['', 'wrong-key']) {
        const noKey = {
          ...config,
          temporal: { ...config.temporal, apiKey: apiKeyTried, tls: { ...config.temporal.tls, enabled: true } },
        };
        await assert.rejects(connectTemporal(noKey), /cannot reach Temporal .* over TLS .*API key/);
      }
      const plaintext = {
        ...config,
        temporal: { ...config.temporal, apiKey: '', tls: { ...config.temporal.tls, caPath: '' } },
      };
      await assert.rejects(connectTemporal(plaintext), /cannot reach Temporal/);

      // A worker and a run through the front (long polls and all).
      worker = startWorker({}, served);
      await worker.waitFor((e) => e.event === 'worker-ready');
      const run = runCli(['run', 'fig7', '--preset', 'quick', '--wait', '--json'], served);
      assert.equal(JSON.parse(run.stdout).status, 'completed', run.stderr);

      const again = JSON.parse(runCli(['up', '--json'], served).stdout);
      assert.deepEqual(again.alreadyRunning.sort(), ['s3', 'temporal', 'temporal-front']);
      assert.equal(readFileSync(credsFile, 'utf8'), creds, 'a later up keeps the keys');
      worker.child.kill('SIGTERM');
      await worker.exited;
      assert.match(runCli(['down'], served).stdout, /stopped: temporal-front, temporal, s3/);
      for (const port of [27233, 29000]) assert.equal(await portOpen(address!, port), false);
    } finally {
      if (worker?.child.exitCode === null) {
        worker.child.kill('SIGTERM');
        await worker.exited;
      }
      runCli(['down'], served);
      rmSync(dir, { recursive: true, force: true });
      rmSync(certs, { recursive: true, force: true });
    }
  },
);
