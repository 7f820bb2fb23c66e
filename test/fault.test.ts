/**
 * Fault tests with real worker processes: SIGKILL mid-run (another worker finishes from the last
 * committed checkpoint, bit-identical to an undisturbed run) and SIGTERM mid-segment (the worker
 * checkpoints first, so its successor recomputes nothing).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { connectTemporal, makeObjectStore } from '../infra/clients';
import { startRun } from '../infra/cli/runs';
import { CheckpointStore } from '../src/checkpoint/checkpoint-store';
import { fig7Params, type Fig7Params } from '../src/experiments/fig7/definition';
import { advance, initialState, VARIANTS } from '../src/experiments/fig7/toy';
import { planRun } from '../src/experiments/registry';
import type { RunResult } from '../src/results/run-result';
import { startWorker, testConfig, uniqueQueues, type WorkerProcess } from './helpers';

// A dead worker is noticed through its missing heartbeat; keep that short for the test.
const conf = { ...uniqueQueues(), 'timeouts.heartbeatMs': '3000' };
const config = testConfig(conf);
const checkpoints = new CheckpointStore(makeObjectStore(config));

const SETS = ['steps=40000000', 'checkpointEvery=2000000'];

function checkpointsOf(w: WorkerProcess, runId: string, unit: string): Array<Record<string, unknown>> {
  return w.events.filter((e) => e.event === 'checkpoint' && e.runId === runId && e.unit === unit);
}

/** The newest committed step of a unit, at the root its worker logged. */
async function latestCommitted(w: WorkerProcess, runId: string, unit: string): Promise<number> {
  const root = String(checkpointsOf(w, runId, unit)[0]!.root);
  return (await checkpoints.loadLatest(root))?.manifest.step ?? 0;
}

function undisturbed(params: Fig7Params, seed: number): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const v of VARIANTS) {
    const s = initialState(params);
    advance(s, params, v, seed, params.steps);
    out[v] = [s.theta1, s.theta2];
  }
  return out;
}

async function startFig7(
  seed: number,
): Promise<{ runId: string; params: Fig7Params; result: () => Promise<RunResult>; close: () => Promise<void> }> {
  const { client, connection } = await connectTemporal(config);
  const { experiment, params } = planRun('fig7', 'default', SETS);
  const runId = `fault-${randomUUID()}`;
  const handle = await startRun(client, config, experiment, 'default', params, seed, runId);
  return {
    runId,
    params: fig7Params.check('fig7', params),
    result: async () => (await handle.result()) as RunResult,
    close: () => connection.close(),
  };
}

test(
  'SIGKILL mid-run: a second worker resumes from the last committed checkpoint ' + 'and the result is bit-identical',
  async () => {
    const a = startWorker(conf);
    await a.waitFor((e) => e.event === 'worker-ready');
    const run = await startFig7(21);
    try {
      await a.waitFor(() => VARIANTS.every((v) => checkpointsOf(a, run.runId, v).length >= 3), 60_000);
      a.child.kill('SIGKILL');
      await a.exited;
      const committed: Record<string, number> = {};
      for (const v of VARIANTS) committed[v] = await latestCommitted(a, run.runId, v);

      const b = startWorker(conf);
      try {
        const result = await run.result();
        for (const v of VARIANTS) {
          const resume = b.events.find((e) => e.event === 'resume' && e.runId === run.runId && e.unit === v);
          assert.ok(resume, `worker B resumed ${v}`);
          assert.ok(
            committed[v]! > 0 && committed[v]! < run.params.steps,
            `${v} was killed mid-unit (at ${committed[v]})`,
          );
          // A committed everything up to committed[v] and had not reached the next checkpoint, so
          // resuming there recomputes less than one checkpoint interval.
          assert.equal(resume.step, committed[v], `${v} resumed from the latest committed checkpoint`);
          assert.ok((resume.attempt as number) >= 2, `${v} resumed on a retry`);
        }
        assert.deepEqual(result.summary.final, undisturbed(run.params, 21));
      } finally {
        b.child.kill('SIGTERM');
        await b.exited;
      }
    } finally {
      a.child.kill('SIGKILL');
      await run.close();
    }
  },
);

test('SIGTERM mid-segment: the worker checkpoints and exits; the next worker recomputes nothing', async () => {
  const a = startWorker(conf);
  await a.waitFor((e) => e.event === 'worker-ready');
  const run = await startFig7(22);
  try {
    await a.waitFor(() => VARIANTS.every((v) => checkpointsOf(a, run.runId, v).length >= 2), 60_000);
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, 'worker exits cleanly');
    const preempted: Record<string, number> = {};
    for (const v of VARIANTS) {
      const e = a.events.find((x) => x.event === 'preempted' && x.runId === run.runId && x.unit === v);
      assert.ok(e, `${v} was preempted, not killed`);
      preempted[v] = e.step as number;
      assert.ok(preempted[v]! > 0 && preempted[v]! < run.params.steps, `${v} stopped mid-unit (step ${preempted[v]})`);
      assert.equal(await latestCommitted(a, run.runId, v), preempted[v], `${v} committed the step it stopped at`);
    }
    const b = startWorker(conf);
    try {
      const result = await run.result();
      for (const v of VARIANTS) {
        const resume = b.events.find((e) => e.event === 'resume' && e.runId === run.runId && e.unit === v);
        assert.equal(resume?.step, preempted[v], `${v} resumed exactly where the stopped worker left off`);
        assert.equal(resume?.attempt, 1, `${v}: preemption spent no retry`);
      }
      assert.deepEqual(result.summary.final, undisturbed(run.params, 22));
    } finally {
      b.child.kill('SIGTERM');
      await b.exited;
    }
  } finally {
    a.child.kill('SIGKILL');
    await run.close();
  }
});
