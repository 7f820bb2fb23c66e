/** Activity tests: the real activities in MockActivityEnvironment, against the real S3 server. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, keys, type LogEvent } from '../activities';
import { codeVersion, makeObjectStore } from '../infra/clients';
import { CheckpointStore } from '../src/checkpoint/checkpoint-store';
import type { Fig7Params } from '../src/experiments/fig7/toy';
import { planRun } from '../src/experiments/registry';
import type { AdvanceToyTrajectoryInput, AdvanceToyTrajectoryResult } from '../activities/types';
import { testConfig } from './helpers';

const config = testConfig();
const store = makeObjectStore(config);
const checkpoints = new CheckpointStore(store);

function setup(stopping = new AbortController()) {
  const events: LogEvent[] = [];
  const acts = createActivities({ store, config, stopping: stopping.signal, log: (e) => events.push(e), codeVersion: codeVersion() });
  return { acts, events, stopping };
}

/** Run the real activity in a mock activity context (typed: the SDK's helper infers unknown). */
function advanceIn(env: MockActivityEnvironment, acts: ReturnType<typeof createActivities>, input: AdvanceToyTrajectoryInput): Promise<AdvanceToyTrajectoryResult> {
  return env.run(acts.advanceToyTrajectory, input) as Promise<AdvanceToyTrajectoryResult>;
}

const params = (sets: string[]): Fig7Params => planRun('fig7', 'default', sets).params as unknown as Fig7Params;

test('a segment commits checkpoints every checkpointEvery steps and ends committed', async () => {
  const { acts } = setup();
  const runId = `act-${randomUUID()}`;
  const p = params(['steps=100000', 'checkpointEvery=20000', 'segmentSteps=50000']);
  const r = await advanceIn(new MockActivityEnvironment(), acts, { runId, variant: 'noisy' as const, params: p, seed: 3, untilStep: 50_000 });
  assert.equal(r.step, 50_000);
  assert.equal(r.resumedFrom, 0);
  assert.equal(r.preempted, false);
  const steps = (await checkpoints.committedSteps(keys.checkpoints(runId, 'noisy'))).map((c) => c.step);
  assert.deepEqual(steps, [50_000, 40_000, 20_000]);
  const again = await advanceIn(new MockActivityEnvironment(), acts, { runId, variant: 'noisy' as const, params: p, seed: 3, untilStep: 100_000 });
  assert.equal(again.resumedFrom, 50_000);
  assert.equal(again.step, 100_000);
});

test('cancellation commits a final checkpoint and rethrows the cancellation', async () => {
  const { acts, events } = setup();
  const runId = `act-${randomUUID()}`;
  const p = params(['steps=500000000', 'checkpointEvery=100000000', 'segmentSteps=500000000']);
  const env = new MockActivityEnvironment();
  let beats = 0;
  env.on('heartbeat', () => { if (++beats === 20) env.cancel(); });
  await assert.rejects(advanceIn(env, acts, { runId, variant: 'gd' as const, params: p, seed: 1, untilStep: 500_000_000 }), CancelledFailure);
  const cancelled = events.find((e) => e.event === 'cancelled');
  assert.ok(cancelled, 'logged the cancellation');
  const latest = await checkpoints.loadLatest(keys.checkpoints(runId, 'gd'));
  assert.equal(latest?.manifest.step, cancelled.step, 'the final checkpoint is at the step reached');
  assert.ok((cancelled.step as number) > 0 && (cancelled.step as number) < 100_000_000);
});

test('worker shutdown (preemption) commits and returns early without failing', async () => {
  const stopping = new AbortController();
  const { acts } = setup(stopping);
  const runId = `act-${randomUUID()}`;
  const p = params(['steps=500000000', 'checkpointEvery=100000000', 'segmentSteps=500000000']);
  const env = new MockActivityEnvironment();
  let beats = 0;
  env.on('heartbeat', () => { if (++beats === 20) stopping.abort(); });
  const r = await advanceIn(env, acts, { runId, variant: 'noisy' as const, params: p, seed: 1, untilStep: 500_000_000 });
  assert.equal(r.preempted, true);
  assert.ok(r.step > 0 && r.step < 500_000_000);
  assert.equal((await checkpoints.loadLatest(keys.checkpoints(runId, 'noisy')))?.manifest.step, r.step);
});

test('a corrupted latest checkpoint is skipped: the activity resumes from the one before', async () => {
  const { acts, events } = setup();
  const runId = `act-${randomUUID()}`;
  const p = params(['steps=60000', 'checkpointEvery=20000']);
  await advanceIn(new MockActivityEnvironment(), acts, { runId, variant: 'gd' as const, params: p, seed: 1, untilStep: 40_000 });
  const [newest] = await checkpoints.committedSteps(keys.checkpoints(runId, 'gd'));
  const manifest = JSON.parse(Buffer.from(await store.get(newest!.manifestKey)).toString());
  await store.put(manifest.data.key, Buffer.from('corrupted bytes'));
  const r = await advanceIn(new MockActivityEnvironment(), acts, { runId, variant: 'gd' as const, params: p, seed: 1, untilStep: 60_000 });
  assert.equal(r.resumedFrom, 20_000);
  assert.ok(events.some((e) => e.event === 'checkpoint-skipped' && /sha256 mismatch/.test(String(e.reason))));
});

test('divergence is a non-retryable failure named Divergence', async () => {
  const { acts } = setup();
  const p = params(['lr=1.9', 'noise=100', 'steps=20000']);
  await assert.rejects(
    advanceIn(new MockActivityEnvironment(), acts, { runId: `act-${randomUUID()}`, variant: 'noisy' as const, params: p, seed: 1, untilStep: 20_000 }),
    (e: Error) => e instanceof ApplicationFailure && e.type === 'Divergence' && e.nonRetryable === true && /diverged/.test(e.message),
  );
});
