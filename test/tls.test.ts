/**
 * Temporal over TLS with client certificates (mTLS): a worker and the CLI connect with the
 * certificates the config names and run an experiment; a wrong client certificate, or a missing
 * key file, is a one-line error. The dev server has no TLS option, so a TLS terminator fronts it
 * here as a load balancer or an ingress would in production (ALPN h2, client certificates
 * required and checked against the CA); the TLS the client and the worker speak is real.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as tls from 'node:tls';
import { CLI, startWorker, testConfig, uniqueQueues, type WorkerProcess } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'repro-tls-'));
const f = (name: string): string => path.join(dir, name);
function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}
/**
 * A CA, a server certificate for localhost/127.0.0.1 and a client certificate it signed, and a stranger's client pair.
 */
function makeCertificates(): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=repro test CA',
  );
  for (const [name, ext] of [
    ['server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'],
    ['client', 'extendedKeyUsage=clientAuth\n'],
  ]) {
    writeFileSync(f(`${name}.ext`), `basicConstraints=CA:FALSE\n${ext}`);
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=repro-${name}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'stranger.key',
    '-out',
    'stranger.pem',
    '-days',
    '2',
    '-subj',
    '/CN=stranger',
  );
}

const plain = testConfig();
let front: tls.Server;
let address = '';
let worker: WorkerProcess | undefined;
const queues = uniqueQueues();
const tlsConf = (client = 'client'): Record<string, string> => ({
  ...queues,
  'temporal.address': address,
  'temporal.tls.caPath': f('ca.pem'),
  'temporal.tls.serverName': 'localhost',
  'temporal.tls.certPath': f(`${client}.pem`),
  'temporal.tls.keyPath': f(`${client}.key`),
});
/** The CLI, asynchronously: the TLS front lives in this process and must keep serving. */
function runCli(argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...argv], { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
const args = (conf: Record<string, string>): string[] =>
  Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]);

before(async () => {
  makeCertificates();
  const [host, port] = plain.temporal.address.split(':') as [string, string];
  front = tls.createServer(
    {
      key: readFileSync(f('server.key')),
      cert: readFileSync(f('server.pem')),
      ca: readFileSync(f('ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      const upstream = net.connect(Number(port), host);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    },
  );
  front.on('tlsClientError', () => {});
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  address = `127.0.0.1:${(front.address() as net.AddressInfo).port}`;
});
after(async () => {
  worker?.child.kill('SIGTERM');
  await worker?.exited;
  front.close();
});

test(
  'a worker and the CLI reach Temporal over mTLS ' + 'with the configured certificates and run an experiment',
  async () => {
    worker = startWorker(tlsConf());
    await worker.waitFor((e) => e.event === 'worker-ready', 60_000);
    const run = await runCli(['run', 'fig7', '--wait', '--json', ...args(tlsConf())]);
    assert.equal(run.status === 0 || run.status === 3, true, run.stderr);
    const result = JSON.parse(run.stdout) as { status: string; experiment: string };
    assert.equal(result.status, 'completed');
    const list = await runCli(['list', '--json', '--experiment', 'fig7', ...args(tlsConf())]);
    assert.equal(list.status, 0, list.stderr);
  },
);

test('a client certificate the server does not trust, or a missing key, is a one-line error', async () => {
  const wrong = await runCli(['list', ...args(tlsConf('stranger'))]);
  assert.notEqual(wrong.status, 0);
  assert.match(
    wrong.stderr.trim(),
    /^Error: cannot reach Temporal at 127\.0\.0\.1:\d+ over TLS \(.*\); check temporal\.address and temporal\.tls\.\*/,
  );
  assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr);
  const noKey = await runCli(['list', ...args({ ...tlsConf(), 'temporal.tls.keyPath': f('absent.key') })]);
  assert.notEqual(noKey.status, 0);
  assert.match(noKey.stderr.trim(), /config key 'temporal\.tls\.keyPath': cannot read .*absent\.key \(ENOENT\)/);
});
