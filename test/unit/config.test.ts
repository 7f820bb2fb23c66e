import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, resolveConfig } from '../../temporal.config';

test('defaults describe the embedded stack on loopback', () => {
  const c = resolveConfig();
  assert.equal(c.temporal.address, '127.0.0.1:7233');
  assert.equal(c.s3.endpoint, 'http://127.0.0.1:9000');
  assert.deepEqual(c.taskQueues, { cpu: 'repro-cpu', gpu: 'repro-gpu' });
  assert.equal(c.worker.concurrency, 4);
});

test('layers: file < environment < flags', () => {
  const c = resolveConfig({
    file: {
      path: 'f.json',
      content: { temporal: { address: 'file:1', namespace: 'ns-file' }, worker: { concurrency: 2 } },
    },
    env: { REPRO_TEMPORAL_ADDRESS: 'env:2', REPRO_WORKER_CONCURRENCY: '3' },
    flags: { 'worker.concurrency': '5' },
  });
  assert.equal(c.temporal.address, 'env:2');
  assert.equal(c.temporal.namespace, 'ns-file');
  assert.equal(c.worker.concurrency, 5);
});

test('REPRO_ variables win over the generic AWS_ ones', () => {
  const c = resolveConfig({
    env: { AWS_ACCESS_KEY_ID: 'aws', REPRO_S3_ACCESS_KEY_ID: 'repro-key', AWS_SECRET_ACCESS_KEY: 's3cret' },
  });
  assert.equal(c.s3.accessKeyId, 'repro-key');
  assert.equal(c.s3.secretAccessKey, 's3cret');
});

test('errors name the key and where the value came from', () => {
  assert.throws(
    () => resolveConfig({ flags: { 'worker.concurency': '2' } }),
    (e: Error) => e instanceof ConfigError && /unknown config key 'worker.concurency'/.test(e.message),
  );
  assert.throws(
    () => resolveConfig({ env: { REPRO_WORKER_CONCURRENCY: 'many' } }),
    /'worker.concurrency' must be an integer, got "many" \(from environment variable REPRO_WORKER_CONCURRENCY\)/,
  );
  assert.throws(
    () => resolveConfig({ file: { path: 'x.json', content: { s3: { forcePathStyle: 'yes' } } } }),
    /'s3.forcePathStyle' must be true or false.*config file x.json/,
  );
  assert.throws(
    () => resolveConfig({ flags: { backend: 'tpu' } }),
    /'backend' must be one of auto\|torch\|tensorflow\|wasm\|cpu\|webgpu/,
  );
  assert.throws(() => resolveConfig({ flags: { 'worker.concurrency': '0' } }), /must be an integer >= 1/);
});

test('no message echoes the value of a key that looks secret; a mistyped key gets the one it meant', () => {
  const secret = 'hunter2-s3cr3t-0123456789';
  const message = (f: () => unknown): string => {
    try {
      f();
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('no error');
  };
  const typo = message(() => resolveConfig({ flags: { 's3.secretAccesKey': secret } }));
  assert.match(typo, /unknown config key 's3.secretAccesKey' \(from flag --conf s3.secretAccesKey\)/);
  assert.match(typo, /did you mean 's3.secretAccessKey'\?/);
  assert.ok(!typo.includes(secret), typo);
  for (const content of [{ s3: { secretAccessKey: 12345678901 } }, { temporal: { apiKey: ['a', secret] } }]) {
    const m = message(() => resolveConfig({ file: { path: 'x.json', content } }));
    assert.match(m, /must be a string, got a value not shown \(it may be a secret\)/);
    assert.ok(!m.includes(secret) && !m.includes('12345678901'), m);
  }
  assert.match(
    message(() => resolveConfig({ file: { path: 'x.json', content: { s3: 'bucket' } } })),
    /unknown config key 's3' .*'s3' is a section: give it an object of endpoint, region, bucket/,
  );
});

test("the Temporal CLI's environment variables configure the connection; REPRO_ ones and old names still work", () => {
  const cli = {
    TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
    TEMPORAL_NAMESPACE: 'ns.acct',
    TEMPORAL_TLS: 'true',
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/certs/ca.pem',
    TEMPORAL_TLS_CLIENT_CERT_PATH: '/certs/client.pem',
    TEMPORAL_TLS_CLIENT_KEY_PATH: '/certs/client.key',
    TEMPORAL_TLS_SERVER_NAME: 'front.example',
    TEMPORAL_API_KEY: 'k-123',
  };
  const c = resolveConfig({ env: cli });
  assert.equal(c.temporal.address, 'ns.acct.tmprl.cloud:7233');
  assert.equal(c.temporal.namespace, 'ns.acct');
  assert.deepEqual(c.temporal.tls, {
    enabled: true,
    caPath: '/certs/ca.pem',
    certPath: '/certs/client.pem',
    keyPath: '/certs/client.key',
    serverName: 'front.example',
  });
  assert.equal(c.temporal.apiKey, 'k-123');
  // The older names (the Web UI server's) still work, below the current ones; REPRO_ wins over both.
  const old = { TEMPORAL_TLS_CA: '/old/ca.pem', TEMPORAL_TLS_CERT: '/old/c.pem', TEMPORAL_TLS_KEY: '/old/c.key' };
  assert.deepEqual(
    [resolveConfig({ env: old }).temporal.tls.caPath, resolveConfig({ env: old }).temporal.tls.keyPath],
    ['/old/ca.pem', '/old/c.key'],
  );
  const both = resolveConfig({ env: { ...old, ...cli, REPRO_TEMPORAL_TLS_CERT: '/repro/c.pem' } }).temporal.tls;
  assert.equal(both.caPath, '/certs/ca.pem');
  assert.equal(both.certPath, '/repro/c.pem');
  assert.equal(both.keyPath, '/certs/client.key');
  assert.throws(() => resolveConfig({ env: { TEMPORAL_TLS: 'yes' } }), /'temporal.tls.enabled' must be true or false/);
});
