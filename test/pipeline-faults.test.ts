/**
 * Fault tolerance of the projected-path pipeline with real processes, on a private stack (its
 * servers are stopped and restarted here): a worker killed mid-training and mid-projection, the
 * Temporal server restarted mid-run, and the S3 server unreachable for 20 s. Each run must
 * complete with the same projected path as an undisturbed run.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Client, Connection } from '@temporalio/client';
import { connectTemporal, makeObjectStore } from '../infra/clients';
import { awaitResult, startRun } from '../infra/cli/runs';
import { loadConfig } from '../infra/load-config';
import { stackUp } from '../infra/stack/embedded-stack';
import { startEphemeralStack, type EphemeralStack } from '../infra/stack/ephemeral-stack';
import { sleep, stopDaemon } from '../infra/stack/processes';
import { CheckpointStore } from '../src/checkpoint/checkpoint-store';
import { planRun } from '../src/experiments/registry';
import { pathParams, type PathParams } from '../src/experiments/projected-path/params';
import type { ReproConfig } from '../temporal.config';
import { startWorker, uniqueQueues, type WorkerProcess } from './helpers';

let stack: EphemeralStack;
let config: ReproConfig;
let temporal: { client: Client; connection: Connection };
const conf = { ...uniqueQueues(), 'timeouts.heartbeatMs': '3000' };
// Long training (1600 steps), cheap projections (a loose threshold): the faults land in training
// and the pipeline still runs every stage.
const SETS = [
  'model=mlp:196-64-10',
  'samples=2000',
  'valSamples=200',
  'epochs=8',
  'seeds=1',
  'batch=10',
  'lr=0.1',
  'threshold=2.5',
  'probes=4',
  'traceStride=4',
  'checkpointEvery=50',
];
const TOTAL_STEPS = 1600;
type Row = { iteration: number; trainLoss: number; valLoss: number; trace: number | null };

before(async () => {
  stack = await startEphemeralStack(47233, 'repro-faults', () => {});
  config = loadConfig({ conf: Object.entries(conf).map(([k, v]) => `${k}=${v}`) }, stack.env);
  temporal = await connectTemporal(config);
});
after(async () => {
  await temporal.connection.close();
  await stack.stop();
});

async function start(
  noCache = false,
  sets = SETS,
): Promise<{
  runId: string;
  params: PathParams;
  result: () => Promise<{ path: Row[]; counts: Record<string, number> }>;
}> {
  const { experiment, params } = planRun('projected-path', 'small', sets);
  const runId = `faults-${randomUUID()}`;
  // startRun may meet a restarting server: the client retries its calls
  const handle = await startRun(temporal.client, config, experiment, 'small', params, 1, runId, noCache);
  return {
    runId,
    params: pathParams.check('projected-path', params),
    result: async () => (await awaitResult(handle, makeObjectStore(config))) as never,
  };
}

const worker = (): WorkerProcess => startWorker(conf, stack.env);
/** Stop a worker that a failed test left running, so the file can end. */
const reap = async (w: WorkerProcess): Promise<void> => {
  if (w.child.exitCode === null && w.child.signalCode === null) {
    w.child.kill('SIGKILL');
    await w.exited;
  }
};
let reference: Row[];

test(
  'SIGKILL mid-training: another worker resumes from the last committed checkpoint; ' +
    'same path as an undisturbed run',
  async () => {
    const a = worker();
    await a.waitFor((e) => e.event === 'worker-ready');
    const run = await start();
    const seen = await a.waitFor(
      (e) => e.event === 'checkpoint' && e.runId === run.runId && (e.step as number) >= 100,
      120_000,
    );
    a.child.kill('SIGKILL');
    await a.exited;
    const committed = (await new CheckpointStore(makeObjectStore(config)).committedSteps(seen.root as string))[0]!.step;
    const b = worker();
    try {
      const result = await run.result();
      const resume = b.events.find((e) => e.event === 'resume' && e.runId === run.runId && (e.attempt as number) > 1);
      assert.ok(resume, 'worker B resumed the killed training attempt');
      assert.equal(resume.step, committed, 'from the latest committed checkpoint: less than one interval recomputed');
      assert.ok(committed < TOTAL_STEPS, `killed mid-training (at ${committed} of ${TOTAL_STEPS} steps)`);
      const undisturbed = await start(true);
      reference = (await undisturbed.result()).path;
      assert.deepEqual(result.path, reference);
    } finally {
      b.child.kill('SIGTERM');
      await b.exited;
    }
  },
);

test('the Temporal server restarts mid-run (same SQLite file): the run continues and completes', async () => {
  const w = worker();
  try {
    await w.waitFor((e) => e.event === 'worker-ready');
    const run = await start(true); // training must run again for the restart to land in it
    await w.waitFor((e) => e.event === 'checkpoint' && e.runId === run.runId && (e.step as number) >= 100, 120_000);
    assert.ok(await stopDaemon(config.dataDir, 'temporal'), 'stopped the Temporal server');
    await sleep(2000);
    await stackUp(config);
    assert.deepEqual((await run.result()).path, reference);
  } finally {
    w.child.kill('SIGTERM');
    await w.exited;
  }
});

test(
  'S3 unreachable for 20 s mid-run: activities retry, ' + 'nothing half-written is visible, the run completes',
  async () => {
    const w = worker();
    try {
      await w.waitFor((e) => e.event === 'worker-ready');
      const run = await start(true);
      await w.waitFor((e) => e.event === 'checkpoint' && e.runId === run.runId && (e.step as number) >= 100, 120_000);
      assert.ok(await stopDaemon(config.dataDir, 's3'), 'stopped the S3 server');
      await sleep(20_000);
      await stackUp(config);
      const result = await run.result();
      assert.deepEqual(result.path, reference);
      const skipped: string[] = [];
      const checkpoints = new CheckpointStore(makeObjectStore(config));
      // Where the worker trained (the trajectory's folder under the run's prefix, --no-cache).
      const root = String(w.events.find((e) => e.event === 'checkpoint' && e.runId === run.runId)!.root);
      const latest = await checkpoints.loadLatest(root, (s) => skipped.push(s.reason));
      assert.equal(latest?.manifest.step, TOTAL_STEPS);
      assert.deepEqual(skipped, [], 'every committed checkpoint verifies');
    } finally {
      w.child.kill('SIGTERM');
      await w.exited;
    }
  },
);

// One epoch, a tight threshold: each projection is hundreds of full-batch GD steps, checkpointed every 20.
const PROJECTION_SETS = [
  'model=mlp:196-32-10',
  'samples=1000',
  'valSamples=200',
  'epochs=1',
  'seeds=1',
  'batch=50',
  'lr=0.1',
  'threshold=0.9',
  'projectionCheckpointEvery=20',
  'probes=4',
  'traceStride=100',
];

let projectionReference: Row[];

test(
  'SIGKILL mid-projection: another worker resumes the GD from its last checkpoint; ' +
    'same path as an undisturbed run',
  async () => {
    const a = worker();
    let run: Awaited<ReturnType<typeof start>>, seen: Record<string, unknown>;
    try {
      await a.waitFor((e) => e.event === 'worker-ready');
      run = await start(false, PROJECTION_SETS);
      seen = await a.waitFor(
        (e) => e.event === 'projection-checkpoint' && e.runId === run.runId && (e.gdStep as number) >= 40,
        180_000,
      );
    } finally {
      await reap(a);
    }
    const committed = (
      await new CheckpointStore(makeObjectStore(config)).committedSteps(`cache/projecting/${seen.key as string}/`)
    )[0]!.step;
    const b = worker();
    try {
      const result = await run.result();
      const resume = b.events.find(
        (e) => e.event === 'projection-resume' && e.key === seen.key && (e.attempt as number) > 1,
      );
      assert.ok(
        resume,
        `worker B resumed the killed projection; its events: ` +
          `${JSON.stringify(b.events.filter((e) => e.event === 'projection-resume'))}`,
      );
      assert.equal(
        resume.gdStep,
        committed,
        'from the last committed GD checkpoint: less than one interval recomputed',
      );
      assert.equal(
        (await makeObjectStore(config).list(`cache/projecting/${seen.key as string}/`)).length,
        0,
        'the finished projection cleared its progress checkpoints',
      );
      const undisturbed = await start(true, PROJECTION_SETS);
      projectionReference = (await undisturbed.result()).path;
      assert.deepEqual(result.path, projectionReference);
    } finally {
      b.child.kill('SIGTERM');
      await b.exited;
    }
  },
);

test(
  'SIGTERM mid-projection: the GD is committed where it stands and handed back; ' +
    'the next worker goes on from that step, no retry spent',
  async () => {
    const a = worker();
    let run: Awaited<ReturnType<typeof start>>, seen: Record<string, unknown>;
    try {
      await a.waitFor((e) => e.event === 'worker-ready');
      run = await start(true, PROJECTION_SETS);
      seen = await a.waitFor(
        (e) => e.event === 'projection-checkpoint' && e.runId === run.runId && (e.gdStep as number) >= 40,
        180_000,
      );
      a.child.kill('SIGTERM');
      assert.equal(await a.exited, 0, 'the worker stops cleanly');
    } finally {
      await reap(a);
    }
    const stoppedAt = a.events.filter((e) => e.event === 'projection-checkpoint' && e.key === seen.key).at(-1)!
      .gdStep as number;
    const b = worker();
    try {
      const result = await run.result();
      const resume = b.events.find((e) => e.event === 'projection-resume' && e.key === seen.key);
      assert.ok(resume, 'worker B picked the projection up');
      assert.equal(resume.gdStep, stoppedAt, 'from the step where A stopped: nothing recomputed');
      assert.equal(resume.attempt, 1, 'a fresh activity, not a retry');
      assert.deepEqual(result.path, projectionReference);
    } finally {
      b.child.kill('SIGTERM');
      await b.exited;
    }
  },
);
