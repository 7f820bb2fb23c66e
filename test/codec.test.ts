/**
 * Payload encryption: a run with codec.key set completes, the server's stored history holds its
 * parameters only as ciphertext (read back by a client without the key), the codec server
 * decodes them for the Web UI over HTTP (with CORS for the UI's origin), and a wrong key or an
 * altered payload is a one-line error. Plaintext that a client without the key writes into a
 * history is refused by the workers; failure messages are encrypted too; an encrypted run
 * resumes. The codec server answers only its own Host, the UI's origin, its token, small bodies.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { AesGcmCodec, codecFor } from '../infra/codec';
import { startCodecServer } from '../infra/codec-server';
import { makeObjectStore } from '../infra/clients';
import { awaitResult, runInput, runProgress, startRun } from '../infra/cli/runs';
import { planRun } from '../src/experiments/registry';
import { CLI, confArgs, runCliAsync, testConfig, uniqueQueues } from './helpers';
import { inProcessWorkers } from './in-process-workers';

const key = randomBytes(32).toString('base64');
const queues = uniqueQueues();
const config = testConfig({ ...queues, 'codec.key': key });
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
  await assert.rejects(
    codec.decode([payload]),
    /payload is not encrypted \(encoding 'json\/plain'\) but codec.key is set/,
  );
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

      const server = await startCodecServer(codecFor(config)!, { port: 0, uiOrigin: 'http://127.0.0.1:8233' });
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
        const wrong = await startCodecServer(new AesGcmCodec(randomBytes(32)), {
          port: 0,
          uiOrigin: 'http://127.0.0.1:8233',
        });
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

/** A raw HTTP request (fetch will not set Host), answering status and body. */
function request(
  port: number,
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: opts.method ?? 'POST', path: opts.path ?? '/decode', headers: opts.headers },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

test('the codec server answers only its own Host, the UI origin, its token and bodies under the limit', async () => {
  const codec = codecFor(config)!;
  const [sealed] = await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('1') }]);
  const b64 = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? []).toString('base64');
  const body = JSON.stringify({
    payloads: [
      {
        metadata: {
          encoding: b64(sealed!.metadata!.encoding),
          'encryption-key-id': b64(sealed!.metadata!['encryption-key-id']),
        },
        data: b64(sealed!.data),
      },
    ],
  });
  const ui = 'http://127.0.0.1:8233';
  const server = await startCodecServer(codec, { port: 0, uiOrigin: ui, token: 'codec-token', maxBodyBytes: 4096 });
  const port = (server.address() as AddressInfo).port;
  const own = { host: `127.0.0.1:${port}`, authorization: 'Bearer codec-token', 'content-type': 'application/json' };
  try {
    assert.equal((await request(port, { headers: own, body })).status, 200, 'the UI-like request is answered');
    assert.equal(
      (await request(port, { headers: { ...own, host: `localhost:${port}`, origin: ui }, body })).status,
      200,
    );
    const rebound = await request(port, { headers: { ...own, host: `attacker.example:${port}` }, body });
    assert.equal(rebound.status, 403, 'a DNS-rebound name is refused');
    assert.match(rebound.body, /Host attacker.example:\d+ is not this server's address/);
    const foreign = await request(port, { headers: { ...own, origin: 'http://attacker.example' }, body });
    assert.equal(foreign.status, 403, 'another origin is refused');
    const preflight = await request(port, {
      method: 'OPTIONS',
      headers: { host: own.host, origin: 'http://attacker.example' },
    });
    assert.equal(preflight.status, 403, "another origin's preflight is refused");
    const noToken = await request(port, { headers: { ...own, authorization: '' }, body });
    assert.equal(noToken.status, 401);
    assert.equal((await request(port, { headers: { ...own, authorization: 'Bearer wrong' }, body })).status, 401);
    const encode = await request(port, { path: '/encode', headers: own, body });
    assert.equal(encode.status, 404, '/encode is off unless codec.serverEncode');
    const big = await request(port, { headers: own, body: 'x'.repeat(5000) });
    assert.equal(big.status, 413);
  } finally {
    server.close();
  }
  const encoding = await startCodecServer(codec, { port: 0, uiOrigin: ui, encode: true });
  try {
    const p = (encoding.address() as AddressInfo).port;
    assert.equal((await request(p, { path: '/encode', headers: { host: `127.0.0.1:${p}` }, body })).status, 200);
  } finally {
    encoding.close();
  }
});

/** The peak resident memory of a process, in bytes (Linux). */
function peakMemory(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

test('a 64 MiB POST to `repro codec-server` is refused with 413 without being buffered', async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  const child = spawn(process.execPath, [CLI, 'codec-server', '--port', String(port)], {
    env: { ...process.env, REPRO_CODEC_KEY: key },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => c.toString().includes('codec server for key') && resolve());
      child.once('exit', (code) => reject(new Error(`codec-server exited with ${code}`)));
    });
    const before = peakMemory(child.pid!);
    const size = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    for (const chunked of [false, true]) {
      // Read the answer whenever it comes; the server may close before the whole body is sent.
      const status = await new Promise<number>((resolve) => {
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/decode',
          headers: chunked ? {} : { 'content-length': String(size) },
        });
        let answered = 0;
        req.on('response', (res) => {
          answered = res.statusCode!;
          res.resume();
          req.destroy();
        });
        req.on('error', () => {});
        req.on('close', () => resolve(answered));
        let sent = 0;
        const pump = (): void => {
          while (sent < size && !req.destroyed) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          if (!req.destroyed) req.end();
        };
        pump();
      });
      assert.equal(status, 413, `a 64 MiB body (${chunked ? 'chunked' : 'with its length'}) is refused`);
    }
    const grew = peakMemory(child.pid!) - before;
    process.stdout.write(`# codec-server peak memory grew ${(grew / 2 ** 20).toFixed(1)} MiB over two 64 MiB POSTs\n`);
    assert.ok(grew < 16 * 2 ** 20, `the server's peak memory grew ${grew} bytes`);
  } finally {
    child.kill('SIGTERM');
  }
});

/** A failure's message as stored, with its encrypted attributes opened when it has them. */
async function failureText(f: temporal.api.failure.v1.IFailure | null | undefined): Promise<string> {
  if (!f) return '';
  const attrs = f.encodedAttributes ? await codecFor(config)!.decode([f.encodedAttributes]) : [];
  return `${f.message ?? ''} ${attrs.map((p) => Buffer.from(p.data ?? []).toString()).join(' ')}`;
}

test('workers refuse a plaintext input that a client without the key wrote into a history', async () => {
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const raw = new Client({ connection, namespace: config.temporal.namespace });
    const plan = planRun('fig7', 'quick', []);
    const id = `inject-${randomUUID().slice(0, 8)}`;
    const handle = await raw.workflow.start(plan.experiment.workflowType, {
      workflowId: id,
      taskQueue: config.taskQueues.cpu,
      args: [runInput(config, plan.experiment, 'quick', plan.params, 1, id, false)],
    });
    try {
      let events: temporal.api.history.v1.IHistoryEvent[] = [];
      // Either state ends the wait: the task refused, or (the bug) an activity scheduled on the input.
      const settled = (e: temporal.api.history.v1.IHistoryEvent): boolean =>
        Boolean(e.workflowTaskFailedEventAttributes || e.activityTaskScheduledEventAttributes);
      while (!events.some(settled)) {
        events = (await handle.fetchHistory()).events ?? [];
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(!events.some((e) => e.activityTaskScheduledEventAttributes), 'no activity ran on the injected input');
      const failed = events.find((e) => e.workflowTaskFailedEventAttributes)!.workflowTaskFailedEventAttributes!;
      assert.match(await failureText(failed.failure), /payload is not encrypted/);
    } finally {
      await handle.terminate();
    }
  } finally {
    await connection.close();
  }
});

test("a failed encrypted run's failure message is ciphertext in the history and clear to the key holder", async () => {
  const plan = planRun('fig7', 'quick', ['noise=1e300', 'steps=2000', 'checkpointEvery=1000']);
  const id = `codec-fail-${randomUUID().slice(0, 8)}`;
  const handle = await startRun(workers.env.client, config, plan.experiment, 'quick', plan.params, 1, id);
  await assert.rejects(awaitResult(handle, store), /diverged before step/);
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const raw = new Client({ connection, namespace: config.temporal.namespace });
    const history = await raw.workflow.getHandle(handle.workflowId).fetchHistory();
    const text = JSON.stringify(history);
    assert.ok(
      history.events!.some((e) => e.workflowExecutionFailedEventAttributes),
      'the run failed',
    );
    for (const clear of ['diverged', 'lower lr', 'toy.js'])
      assert.ok(!text.includes(clear), `"${clear}" is in the clear`);
    assert.match(text, /Encoded failure/);
  } finally {
    await connection.close();
  }
});

test('an encrypted run shows its progress; cancelled, it resumes with its own (decrypted) input', async () => {
  const long = ['steps=2000000000', 'checkpointEvery=1000000000', 'lr=0.0123457'];
  const plan = planRun('fig7', 'default', long, { allowLarge: true }); // runs until cancelled
  const id = `codec-resume-${randomUUID().slice(0, 8)}`;
  const handle = await startRun(workers.env.client, config, plan.experiment, 'default', plan.params, 2, id);
  const until = async (pred: () => Promise<boolean>): Promise<void> => {
    while (!(await pred())) await new Promise((r) => setTimeout(r, 200));
  };
  await until(async () => (await handle.describe()).raw.pendingActivities?.some((a) => a.heartbeatDetails) ?? false);
  const { problems } = await runProgress(workers.env.client, handle);
  const heartbeats = problems.filter((p) => p.startsWith('describe:'));
  assert.deepEqual(heartbeats, [], "`repro status` reads the encrypted run's heartbeats");
  await handle.cancel();
  await until(async () => (await handle.describe()).status.name === 'CANCELLED');
  const r = await runCliAsync(['resume', id, '--json', ...confArgs(queues)], { ...process.env, REPRO_CODEC_KEY: key });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { runId: id, resumed: true, previousStatus: 'CANCELLED' });
  const resumed = workers.env.client.workflow.getHandle(handle.workflowId);
  try {
    assert.equal((await resumed.describe()).status.name, 'RUNNING');
    const input = (await resumed.fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
    assert.equal(Buffer.from(input[0]!.metadata!.encoding!).toString(), 'binary/encrypted', 'still encrypted');
    const [clear] = await codecFor(config)!.decode(input);
    assert.match(Buffer.from(clear!.data!).toString(), /"lr":0\.0123457/);
  } finally {
    await resumed.terminate();
  }
});
