/**
 * A production Temporal: the self-hosted server (built at a pinned version from the Go module
 * proxy) on Debian's PostgreSQL, with workers on two separate hosts (network namespaces) and S3.
 * Mid-run, the Temporal server and PostgreSQL are both stopped and started again; the run ends
 * with the projected path of an undisturbed run on the same servers.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, Connection } from '@temporalio/client';
import { connectTemporal, makeObjectStore } from '../infra/clients';
import { awaitResult, startRun } from '../infra/cli/runs';
import { loadConfig } from '../infra/load-config';
import { stackDown, startS3, waitForS3 } from '../infra/stack/embedded-stack';
import { postgresBin, startPostgresTemporal, type PostgresTemporal } from '../infra/stack/postgres-temporal';
import { planRun } from '../src/experiments/registry';
import type { ReproConfig } from '../temporal.config';
import { startWorker, uniqueQueues, type WorkerProcess } from './helpers';
import { createNetHosts, netnsUnavailable, type NetHosts } from './net-hosts';

const why =
  netnsUnavailable() ??
  (() => {
    try {
      postgresBin();
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  })();
if (why) process.stdout.write(`# production-temporal: skipped: ${why}\n`);

let net: NetHosts;
let server: PostgresTemporal;
let config: ReproConfig;
let env: NodeJS.ProcessEnv;
let dataDir: string;
let serverDir: string;
let temporal: { client: Client; connection: Connection };
const conf = { ...uniqueQueues(), 'timeouts.heartbeatMs': '3000' };
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
  if (why) return;
  net = createNetHosts(['a', 'b'], 214);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'repro-prod-'));
  // Not inside dataDir: PostgreSQL runs as its own user, which cannot enter a private folder of root's.
  serverDir = mkdtempSync(path.join(os.tmpdir(), 'repro-prod-temporal-'));
  env = {
    ...process.env,
    REPRO_TEMPORAL_ADDRESS: `${net.serverAddress}:47233`,
    REPRO_TEMPORAL_NAMESPACE: 'repro-prod',
    REPRO_S3_ENDPOINT: `http://${net.serverAddress}:49000`,
    REPRO_S3_CONSOLE_PORT: '0',
    REPRO_S3_BUCKET: 'repro-prod',
    REPRO_DATA_DIR: path.join(dataDir, 'repro'),
  };
  config = loadConfig({ conf: Object.entries(conf).map(([k, v]) => `${k}=${v}`) }, env);
  await startS3(config);
  // MinIO on the bridge runs under keys made for this data folder: the config layer now reads them.
  config = loadConfig({ conf: Object.entries(conf).map(([k, v]) => `${k}=${v}`) }, env);
  const log = (line: string): void => {
    process.stderr.write(`# ${line}\n`);
  };
  server = await startPostgresTemporal(
    {
      host: net.serverAddress,
      port: 47233,
      membershipPort: 26933,
      postgresPort: 45432,
      namespace: 'repro-prod',
      dataDir: serverDir,
      toolsDir: config.toolsDir,
      log,
    },
    config,
  );
  await waitForS3(config);
  temporal = await connectTemporal(config);
});
after(async () => {
  if (why) return;
  await temporal?.connection.close();
  await server?.stop();
  await stackDown(config);
  net?.remove();
  for (const d of [dataDir, serverDir]) rmSync(d, { recursive: true, force: true });
});

async function run(noCache: boolean): Promise<{ status: () => Promise<string>; result: () => Promise<Path> }> {
  const { experiment, params } = planRun('projected-path', 'small', SETS);
  const id = `prod-${randomUUID()}`;
  const handle = await startRun(temporal.client, config, experiment, 'small', params, 1, id, noCache);
  return {
    status: async () => (await handle.describe()).status.name,
    result: async () => ((await awaitResult(handle, makeObjectStore(config))) as unknown as { path: Path }).path,
  };
}

test(
  'projected-path on a PostgreSQL-backed Temporal survives restarting the server and the database mid-run',
  {
    skip: why,
  },
  async () => {
    const host = (name: string): WorkerProcess =>
      startWorker(conf, env, net.hosts.find((h) => h.name === name)!.namespace);
    const workers = [host('a'), host('b')];
    try {
      await Promise.all(workers.map((w) => w.waitFor((e) => e.event === 'worker-ready')));
      const disturbed = await run(false);
      const training = (w: WorkerProcess): Promise<unknown> =>
        w.waitFor((e) => e.event === 'checkpoint' && (e.step as number) >= 100, 180_000);
      await Promise.all(workers.map(training));
      const down = Date.now();
      await server.stopServer();
      await server.stopPostgres();
      // Down for longer than the activities' 3 s heartbeat timeout: their heartbeats go unanswered.
      await sleep(10_000);
      await server.startPostgres();
      await server.startServer();
      process.stderr.write(`# Temporal and PostgreSQL were down for ${((Date.now() - down) / 1000).toFixed(1)} s\n`);
      assert.equal(await disturbed.status(), 'RUNNING', 'the run was in flight across the outage');
      const path = await disturbed.result();
      assert.ok(path.length > 0, 'the disturbed run returned a path');
      for (const w of workers) assert.equal(w.child.exitCode, null, 'the workers rode out the outage');
      const undisturbed = await run(true);
      assert.deepEqual(path, await undisturbed.result());
    } finally {
      for (const w of workers) {
        if (w.child.exitCode === null && w.child.signalCode === null) {
          w.child.kill('SIGTERM');
          await w.exited;
        }
      }
    }
  },
);
