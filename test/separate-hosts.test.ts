/**
 * Workers on separate hosts: two workers, each in its own network namespace with its own
 * address, against one Temporal server and one S3 server that listen on a bridge. Mid-run, one
 * host drops off the network and its worker is killed; the run completes on the other host with
 * the same projected path as an undisturbed run.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Client, Connection } from '@temporalio/client';
import { connectTemporal, makeObjectStore } from '../infra/clients';
import { awaitResult, startRun } from '../infra/cli/runs';
import { loadConfig } from '../infra/load-config';
import { startEphemeralStack, type EphemeralStack } from '../infra/stack/ephemeral-stack';
import { planRun } from '../src/experiments/registry';
import { runIdOfWorkflow } from '../src/runs/ids';
import type { ReproConfig } from '../temporal.config';
import { makeCertificates } from './certificates';
import { startWorker, uniqueQueues, type WorkerProcess } from './helpers';
import { createNetHosts, netnsUnavailable, type NetHosts } from './net-hosts';

const unavailable = netnsUnavailable();
if (unavailable)
  process.stdout.write(`# separate-hosts: skipped because network namespaces cannot be created here: ${unavailable}\n`);

let net: NetHosts;
let stack: EphemeralStack;
let config: ReproConfig;
let temporal: { client: Client; connection: Connection };
const conf = { ...uniqueQueues(), 'timeouts.heartbeatMs': '3000' };
// Two seeds, so each host trains one at the same time; a loose threshold keeps projections cheap.
const SETS = [
  'model=mlp:196-64-10',
  'samples=2000',
  'valSamples=200',
  'epochs=6',
  'seeds=2',
  'batch=10',
  'lr=0.1',
  'threshold=2.5',
  'probes=4',
  'traceStride=4',
  'checkpointEvery=50',
];
type Path = Array<{ seed: number; iteration: number; trainLoss: number; trace: number | null }>;

before(async () => {
  if (unavailable) return;
  net = createNetHosts(['a', 'b']);
  // Served to other hosts, Temporal needs TLS and client authentication: a certificate for the
  // bridge address and an API key.
  const certs = mkdtempSync(path.join(os.tmpdir(), 'repro-hosts-certs-'));
  makeCertificates(certs, `IP:${net.serverAddress}`);
  stack = await startEphemeralStack(57233, 'repro-hosts', () => {}, net.serverAddress, {
    REPRO_TEMPORAL_SERVER_TLS_CERT: path.join(certs, 'server.pem'),
    REPRO_TEMPORAL_SERVER_TLS_KEY: path.join(certs, 'server.key'),
    REPRO_TEMPORAL_TLS_CA: path.join(certs, 'ca.pem'),
    REPRO_TEMPORAL_API_KEY: `hosts-${randomUUID()}`,
  });
  config = loadConfig({ conf: Object.entries(conf).map(([k, v]) => `${k}=${v}`) }, stack.env);
  temporal = await connectTemporal(config);
});
after(async () => {
  if (unavailable) return;
  await temporal?.connection.close();
  await stack?.stop();
  net?.remove();
});

async function run(noCache: boolean): Promise<{ runId: string; result: () => Promise<Path> }> {
  const { experiment, params } = planRun('projected-path', 'small', SETS);
  const handle = await startRun(
    temporal.client,
    config,
    experiment,
    'small',
    params,
    1,
    `hosts-${randomUUID()}`,
    noCache,
  );
  const runId = runIdOfWorkflow(handle.workflowId);
  return {
    runId,
    result: async () => ((await awaitResult(handle, makeObjectStore(config))) as unknown as { path: Path }).path,
  };
}

test(
  'two workers on separate hosts share a run; one host drops out mid-training and the other finishes it',
  { skip: unavailable },
  async () => {
    const host = (name: string): WorkerProcess =>
      startWorker(conf, stack.env, net.hosts.find((h) => h.name === name)!.namespace);
    const a = host('a'),
      b = host('b');
    try {
      await Promise.all([a.waitFor((e) => e.event === 'worker-ready'), b.waitFor((e) => e.event === 'worker-ready')]);
      const r = await run(false);
      const training = (w: WorkerProcess) =>
        w.waitFor((e) => e.event === 'checkpoint' && e.runId === r.runId && (e.step as number) >= 100, 120_000);
      const [onA, onB] = await Promise.all([training(a), training(b)]);
      assert.notEqual(onA.seed, onB.seed, 'each host trains its own seed');
      net.disconnect('a');
      a.child.kill('SIGKILL');
      await a.exited;
      const path = await r.result();
      const resumed = b.events.find((e) => e.event === 'resume' && e.runId === r.runId && e.seed === onA.seed);
      assert.ok(resumed, `host b took over seed ${String(onA.seed)} from host a`);
      assert.ok(
        (resumed.step as number) >= 100,
        `from a's committed checkpoint (step ${String(resumed.step)}), not from scratch`,
      );
      const undisturbed = await run(true);
      assert.deepEqual(path, await undisturbed.result());
    } finally {
      for (const w of [a, b])
        if (w.child.exitCode === null && w.child.signalCode === null) {
          w.child.kill('SIGTERM');
          await w.exited;
        }
    }
  },
);
