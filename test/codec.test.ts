/**
 * Payload encryption: a run with codec.key set completes, the server's stored history holds its
 * parameters only as ciphertext (read back by a client without the key), the codec server
 * decodes them for the Web UI over HTTP (with CORS for the UI's origin), and a wrong key or an
 * altered payload is a one-line error.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { AesGcmCodec, codecFor } from '../infra/codec';
import { startCodecServer } from '../infra/codec-server';
import { makeObjectStore } from '../infra/clients';
import { awaitResult, startRun } from '../infra/cli/runs';
import { planRun } from '../src/experiments/registry';
import { testConfig, uniqueQueues } from './helpers';
import { inProcessWorkers } from './in-process-workers';

const key = randomBytes(32).toString('base64');
const config = testConfig({ ...uniqueQueues(), 'codec.key': key });
const store = makeObjectStore(config);
let workers: Awaited<ReturnType<typeof inProcessWorkers>>;
before(async () => {
  workers = await inProcessWorkers(config, store);
});
after(async () => {
  await workers.stop();
});

test('the codec round-trips; another key, an altered payload and a short key are one-line errors', async () => {
  const codec = codecFor(config)!;
  const payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"lr":0.05}') };
  const [sealed] = await codec.encode([payload]);
  assert.ok(!Buffer.from(sealed!.data!).toString('latin1').includes('lr'), 'no plaintext');
  const [opened] = await codec.decode([sealed!]);
  assert.equal(Buffer.from(opened!.data!).toString(), '{"lr":0.05}');
  const other = new AesGcmCodec(randomBytes(32));
  await assert.rejects(
    other.decode([sealed!]),
    /payload encrypted with key [0-9a-f]{12}, this codec holds key [0-9a-f]{12}: set codec.key/,
  );
  const altered = { ...sealed!, data: Buffer.from(sealed!.data!).map((b, i) => (i === 20 ? b ^ 1 : b)) };
  await assert.rejects(codec.decode([altered]), /does not authenticate: it was altered/);
  assert.throws(
    () => new AesGcmCodec(randomBytes(16)),
    /codec.key must be 32 bytes in base64 \(got 16 bytes\); make one with: openssl rand -base64 32/,
  );
});

test(
  'an encrypted run completes; ' + 'the stored history holds no plaintext parameters; the codec server decodes it',
  async () => {
    const plan = planRun('fig7', 'default', ['lr=0.0123457']);
    const handle = await startRun(
      workers.env.client,
      config,
      plan.experiment,
      'default',
      plan.params,
      4,
      `codec-${randomUUID().slice(0, 8)}`,
    );
    const result = await awaitResult(handle, store);
    assert.equal(result.params.lr, 0.0123457, 'the workers read the encrypted input');

    // A client without the key sees what the server stores.
    const connection = await Connection.connect({ address: config.temporal.address });
    try {
      const raw = new Client({ connection, namespace: config.temporal.namespace });
      const history = await raw.workflow.getHandle(handle.workflowId).fetchHistory();
      const text = JSON.stringify(history, (_k, v: unknown) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
      );
      for (const secret of ['0.0123457', 'recordEvery', 'checkpointEvery'])
        assert.ok(!text.includes(secret), `the history holds "${secret}" in the clear`);
      const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      assert.equal(Buffer.from(input.metadata!.encoding!).toString(), 'binary/encrypted');

      const server = await startCodecServer(codecFor(config)!, 0, 'http://127.0.0.1:8233');
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const preflight = await fetch(`${url}/decode`, {
          method: 'OPTIONS',
          headers: { Origin: 'http://127.0.0.1:8233' },
        });
        assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8233');
        const b64 = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? []).toString('base64');
        const body = {
          payloads: [
            {
              metadata: Object.fromEntries(Object.entries(input.metadata!).map(([k, v]) => [k, b64(v)])),
              data: b64(input.data),
            },
          ],
        };
        const r = await fetch(`${url}/decode`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        assert.equal(r.status, 200);
        const decoded = (await r.json()) as { payloads: Array<{ data: string }> };
        assert.match(Buffer.from(decoded.payloads[0]!.data, 'base64').toString(), /"lr":0\.0123457/);
        const wrong = await startCodecServer(new AesGcmCodec(randomBytes(32)), 0, 'http://127.0.0.1:8233');
        try {
          const w = await fetch(`http://127.0.0.1:${(wrong.address() as AddressInfo).port}/decode`, {
            method: 'POST',
            body: JSON.stringify(body),
          });
          assert.equal(w.status, 400);
          assert.match(((await w.json()) as { error: string }).error, /this codec holds key/);
        } finally {
          wrong.close();
        }
      } finally {
        server.close();
      }
    } finally {
      await connection.close();
    }
  },
);
