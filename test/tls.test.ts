/**
 * Temporal over TLS with client certificates (mTLS): a worker and the CLI connect with the
 * certificates the config names and run an experiment; a wrong client certificate, or a missing
 * key file, is a one-line error. The dev server has no TLS option, so a TLS terminator fronts it
 * here as a load balancer or an ingress would in production (ALPN h2, client certificates
 * required and checked against the CA); the TLS the client and the worker speak is real.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as tls from 'node:tls';
import { makeCertificates } from './certificates';
import { runCliAsync, startWorker, testConfig, uniqueQueues, type WorkerProcess } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'repro-tls-'));
const f = (name: string): string => path.join(dir, name);
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
const runCli = (argv: string[]): ReturnType<typeof runCliAsync> => runCliAsync(argv);
const args = (conf: Record<string, string>): string[] =>
  Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]);

before(async () => {
  makeCertificates(dir);
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

test("the Temporal CLI's environment variables alone reach Temporal with its client certificate", async () => {
  // The test stack's REPRO_TEMPORAL_* would win over TEMPORAL_*: a shell set up for the Temporal CLI has none.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REPRO_TEMPORAL_')));
  const temporalCli = {
    ...env,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: plain.temporal.namespace,
    TEMPORAL_TLS: 'true',
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: f('ca.pem'),
    TEMPORAL_TLS_CLIENT_CERT_PATH: f('client.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: f('client.key'),
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
  };
  // The front refuses a connection without a client certificate its CA signed.
  const list = await runCliAsync(['list', '--json', '--limit', '1'], temporalCli);
  assert.equal(list.status, 0, list.stderr);
  assert.ok(Array.isArray(JSON.parse(list.stdout)));
  const { TEMPORAL_TLS_CLIENT_CERT_PATH: _cert, TEMPORAL_TLS_CLIENT_KEY_PATH: _key, ...noClientCert } = temporalCli;
  const refused = await runCliAsync(['list'], noClientCert);
  assert.match(refused.stderr, /^Error: cannot reach Temporal at 127\.0\.0\.1:\d+ over TLS/);
});

test("the Temporal CLI's client config profile alone reaches Temporal with its client certificate", async () => {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('REPRO_TEMPORAL_') && !k.startsWith('TEMPORAL_')),
  );
  writeFileSync(
    f('temporal.toml'),
    `[profile.mtls]
address = "${address}"
namespace = "${plain.temporal.namespace}"
[profile.mtls.tls]
server_ca_cert_path = "${f('ca.pem')}"
client_cert_path = "${f('client.pem')}"
client_key_path = "${f('client.key')}"
server_name = "localhost"
`,
  );
  const profile = { ...env, TEMPORAL_CONFIG_FILE: f('temporal.toml'), TEMPORAL_PROFILE: 'mtls' };
  const list = await runCliAsync(['list', '--json', '--limit', '1'], profile);
  assert.equal(list.status, 0, list.stderr);
  assert.ok(Array.isArray(JSON.parse(list.stdout)));
  // The CLI's own variable wins over its profile (here: a key that does not exist), as in the Temporal CLI.
  const overridden = await runCliAsync(['list'], { ...profile, TEMPORAL_TLS_CLIENT_KEY_PATH: f('absent.key') });
  assert.match(overridden.stderr, /config key 'temporal\.tls\.keyPath': cannot read .*absent\.key/);
});

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
