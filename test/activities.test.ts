/** Activity tests: the real activities in MockActivityEnvironment, against the real S3 server. */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type LogEvent } from '../activities';
import { codeVersion, makeObjectStore } from '../infra/clients';
import { CheckpointStore } from '../src/checkpoint/checkpoint-store';
import { fig7Params } from '../src/experiments/fig7/definition';
import { advance, initialState } from '../src/experiments/fig7/toy';
import * as tf from '@tensorflow/tfjs';
import { backendLabel, selectBackend, useBackend } from '../src/engine/backend';
import { mnistSubset } from '../src/experiments/mnist-data';
import { buildModel } from '../src/models/model';
import { Trainer } from '../src/train/trainer';
import { findStudy, planRun } from '../src/experiments/registry';
import { PathWorkspace } from '../activities/projected-path/workspace';
import { pathParams, type PathParams } from '../src/experiments/projected-path/params';
import { pathParts, withData } from '../src/experiments/projected-path/parts';
import { stageKeyInputs } from '../activities/projected-path/stage';
import { writeRunArtifacts } from '../activities/run-artifacts';
import { contentKey } from '../activities/stage-cache';
import { importCifar } from '../src/data/cifar-import';
import { cifarArchive } from './cifar-fixture';
import { testConfig } from './helpers';

const config = testConfig();
const store = makeObjectStore(config);
const checkpoints = new CheckpointStore(store);

function setup(stopping = new AbortController()) {
  const events: LogEvent[] = [];
  const acts = createActivities({
    store,
    config,
    stopping: stopping.signal,
    log: (e) => events.push(e),
    codeVersion: codeVersion(),
  });
  return { acts, events, stopping };
}

type UnitOut = Awaited<ReturnType<ReturnType<typeof createActivities>['advanceUnit']>>;

/** fig7's `gd` or `noisy` unit, run by the study runtime in a mock activity context under --no-cache. */
async function fig7Unit(
  env: MockActivityEnvironment,
  acts: ReturnType<typeof createActivities>,
  runId: string,
  variant: 'gd' | 'noisy',
  sets: string[],
  seed = 1,
): Promise<UnitOut> {
  const { params } = planRun('fig7', 'default', sets);
  const unit = (await findStudy('fig7').open(params)).units.find((u) => u.id === variant)!;
  const input = { runId, experiment: 'fig7', params, seed, unit, upstream: [], noCache: true };
  return (await env.run(acts.advanceUnit, input)) as UnitOut;
}

/** Where a unit's attempt committed, from its log (a unit's folder is per key, under the run's prefix). */
const rootOf = (events: LogEvent[], runId: string): string =>
  String(events.find((e) => e.event === 'checkpoint' && e.runId === runId)!.root);

test(
  'a unit commits a checkpoint every checkpointEvery steps, ' + 'keeps the newest two, and ends with its output',
  async () => {
    const { acts, events } = setup();
    const runId = `act-${randomUUID()}`;
    const r = await fig7Unit(
      new MockActivityEnvironment(),
      acts,
      runId,
      'noisy',
      ['steps=100000', 'checkpointEvery=20000'],
      3,
    );
    assert.ok(r.done && !r.preempted && r.step === 100_000);
    const logged = events.filter((e) => e.event === 'checkpoint' && e.runId === runId).map((e) => e.step);
    assert.deepEqual(logged, [20_000, 40_000, 60_000, 80_000, 100_000]);
    const steps = (await checkpoints.committedSteps(r.key!.root)).map((c) => c.step);
    assert.deepEqual(steps, [100_000, 80_000]);
    const out = JSON.parse(Buffer.from(await store.get(`${r.key!.root}output.json`)).toString());
    const { params } = planRun('fig7', 'default', ['steps=100000', 'checkpointEvery=20000']);
    const p = fig7Params.check('fig7', params);
    const s = initialState(p);
    advance(s, p, 'noisy', 3, 100_000);
    assert.equal(out.identity.length, 64, 'the output carries the identity of its inputs');
    assert.deepEqual(out.output.theta, [s.theta1, s.theta2], 'the output is the uninterrupted trajectory, bit for bit');
  },
);

test('cancellation commits a final checkpoint and rethrows the cancellation', async () => {
  const { acts, events } = setup();
  const runId = `act-${randomUUID()}`;
  const env = new MockActivityEnvironment();
  let beats = 0;
  env.on('heartbeat', () => {
    if (++beats === 20) env.cancel();
  });
  await assert.rejects(
    fig7Unit(env, acts, runId, 'gd', ['steps=500000000', 'checkpointEvery=100000000']),
    CancelledFailure,
  );
  const cancelled = events.find((e) => e.event === 'cancelled');
  assert.ok(cancelled, 'logged the cancellation');
  const latest = await checkpoints.loadLatest(rootOf(events, runId));
  assert.equal(latest?.manifest.step, cancelled.step, 'the final checkpoint is at the step reached');
  assert.ok((cancelled.step as number) > 0 && (cancelled.step as number) < 100_000_000);
});

test('worker shutdown (preemption) commits and returns early without failing', async () => {
  const stopping = new AbortController();
  const { acts } = setup(stopping);
  const runId = `act-${randomUUID()}`;
  const env = new MockActivityEnvironment();
  let beats = 0;
  env.on('heartbeat', () => {
    if (++beats === 20) stopping.abort();
  });
  const r = await fig7Unit(env, acts, runId, 'noisy', ['steps=500000000', 'checkpointEvery=100000000']);
  assert.ok(r.preempted && !r.done);
  assert.ok(r.step > 0 && r.step < 500_000_000);
  assert.equal((await checkpoints.loadLatest(r.key!.root))?.manifest.step, r.step);
});

test('a corrupted latest checkpoint is skipped: the unit resumes from the one before', async () => {
  const stopping = new AbortController();
  const { acts } = setup(stopping);
  const runId = `act-${randomUUID()}`;
  const sets = ['steps=60000', 'checkpointEvery=20000'];
  const env = new MockActivityEnvironment();
  env.on('heartbeat', (d: { step?: number }) => {
    if ((d.step ?? 0) >= 40_000) stopping.abort();
  });
  const stopped = await fig7Unit(env, acts, runId, 'gd', sets);
  assert.equal(stopped.step, 40_000, 'stopped at the second checkpoint');
  const [newest] = await checkpoints.committedSteps(stopped.key!.root);
  const manifest = JSON.parse(Buffer.from(await store.get(newest!.manifestKey)).toString());
  await store.put(manifest.data.key, Buffer.from('corrupted bytes'));
  const resumed = setup();
  const r = await fig7Unit(new MockActivityEnvironment(), resumed.acts, runId, 'gd', sets);
  assert.ok(r.done);
  assert.equal(resumed.events.find((e) => e.event === 'resume')?.step, 20_000);
  assert.ok(resumed.events.some((e) => e.event === 'checkpoint-skipped' && /sha256 mismatch/.test(String(e.reason))));
});

test('divergence is a non-retryable failure named Divergence', async () => {
  const { acts } = setup();
  await assert.rejects(
    fig7Unit(new MockActivityEnvironment(), acts, `act-${randomUUID()}`, 'noisy', [
      'lr=1.9',
      'noise=100',
      'steps=20000',
      'checkpointEvery=20000',
    ]),
    (e: Error) =>
      e instanceof ApplicationFailure &&
      e.type === 'Divergence' &&
      e.nonRetryable === true &&
      /diverged/.test(e.message),
  );
});

// --- projected-path stages ---
/** The tiny projected path of these tests, with `sets` overriding its settings (each key once, as --set wants). */
const pipeline = (sets: string[]): PathParams => {
  const base = ['model=mlp:49-20-10', 'samples=200', 'valSamples=100', 'batch=20', 'lr=0.5', 'threshold=0.75'];
  const merged = new Map([...base, 'projectionCheckpointEvery=5', ...sets].map((kv) => [kv.split('=')[0]!, kv]));
  return pathParams.check('projected-path', planRun('projected-path', 'small', [...merged.values()]).params);
};
type TrainOut = Awaited<ReturnType<ReturnType<typeof createActivities>['trainSeed']>>;
type ProjectOut = Awaited<ReturnType<ReturnType<typeof createActivities>['projectState']>>;

test(
  'trainSeed: committed epochs come back from manifests alone, with no numerics; ' + 'only epochs after knownIteration',
  async () => {
    const { acts, events } = setup();
    const p = pipeline([`lr=${0.3 + Math.random() / 10}`]); // a trajectory of its own
    const base = { runId: `act-${randomUUID()}`, seed: 1, parts: pathParts(p), checkpointEvery: 0, noCache: false };
    const first = (await new MockActivityEnvironment().run(acts.trainSeed, {
      ...base,
      untilEpoch: 2,
      knownIteration: -1,
    })) as TrainOut;
    assert.deepEqual(
      first.epochs.map((e) => e.iteration),
      [0, 10, 20],
    );
    assert.ok(first.trainSteps === 20 && first.computeMs > 0);
    const again = (await new MockActivityEnvironment().run(acts.trainSeed, {
      ...base,
      runId: `act-${randomUUID()}`,
      untilEpoch: 2,
      knownIteration: 10,
    })) as TrainOut;
    assert.deepEqual(again.epochs, first.epochs.slice(2), 'the same committed state, only after the known iteration');
    assert.deepEqual([again.trainSteps, again.computeMs, again.root], [0, 0, first.root]);
    assert.ok(events.some((e) => e.event === 'train-cached'));
  },
);

test(
  'projectState: a stopping worker gets "preempted" with the GD committed; ' +
    'the next attempt resumes there and matches an uninterrupted projection',
  async () => {
    const stopping = new AbortController();
    const { acts, events } = setup(stopping);
    const p = pipeline([`lr=${0.3 + Math.random() / 10}`]);
    const trained = (await new MockActivityEnvironment().run(acts.trainSeed, {
      runId: `act-${randomUUID()}`,
      seed: 1,
      parts: pathParts(p),
      checkpointEvery: 0,
      noCache: false,
      untilEpoch: 1,
      knownIteration: -1,
    })) as TrainOut;
    const input = { runId: `act-${randomUUID()}`, parts: pathParts(p), state: trained.epochs[0]!, noCache: true };
    const env = new MockActivityEnvironment();
    env.on('heartbeat', () => {
      if (events.some((e) => e.event === 'projection-checkpoint' && (e.gdStep as number) >= 10)) stopping.abort();
    });
    const stopped = (await env.run(acts.projectState, input)) as ProjectOut;
    assert.ok('preempted' in stopped, 'preempted, not failed');
    const resumed = setup();
    const done = (await new MockActivityEnvironment().run(resumed.acts.projectState, input)) as ProjectOut;
    assert.ok(!('preempted' in done));
    const resume = resumed.events.find((e) => e.event === 'projection-resume')!;
    assert.ok((resume.gdStep as number) >= 10, `resumed at GD step ${String(resume.gdStep)}`);
    const whole = (await new MockActivityEnvironment().run(setup().acts.projectState, {
      ...input,
      runId: `act-${randomUUID()}`,
    })) as ProjectOut;
    assert.ok(!('preempted' in whole));
    assert.deepEqual(
      { ...done.value, minimum: done.value.minimum.sha256 },
      { ...whole.value, minimum: whole.value.minimum.sha256 },
    );
  },
);

type StartOut = Awaited<ReturnType<ReturnType<typeof createActivities>['prepareStart']>>;

test(
  'prepareStart: a stopping worker commits the bad minimum in progress; the retry resumes there ' +
    'and reaches the minimum of an uninterrupted preparation',
  async () => {
    const stopping = new AbortController();
    const { acts } = setup(stopping);
    const p = pipeline([
      `lr=${0.3 + Math.random() / 10}`,
      'start=bad-minimum',
      'corruptSamples=50',
      'badEpochs=4',
      'badGdSteps=40',
    ]);
    // 4 epochs of 250 samples in batches of 20, then 40 GD steps: it stops in the second epoch.
    const input = { runId: `act-${randomUUID()}`, seed: 1, parts: pathParts(p), noCache: true };
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: { stage?: string; step?: number }) => {
      if (d.stage === 'start' && (d.step ?? 0) >= 20) stopping.abort();
    });
    await assert.rejects(env.run(acts.prepareStart, input), /worker stopping/);
    const resumed = setup();
    const steps: number[] = [];
    const again = new MockActivityEnvironment();
    again.on('heartbeat', (d: { stage?: string; step?: number }) => {
      if (d.stage === 'start' && typeof d.step === 'number') steps.push(d.step);
    });
    const done = (await again.run(resumed.acts.prepareStart, input)) as StartOut;
    assert.ok(steps[0]! > 20, `resumed after step 20, not from the start: first step ${steps[0]}`);
    const whole = (await new MockActivityEnvironment().run(setup().acts.prepareStart, {
      ...input,
      runId: `act-${randomUUID()}`,
    })) as StartOut;
    assert.equal(done.value.minimum.sha256, whole.value.minimum.sha256, 'the same bad minimum, bit for bit');
  },
);

type SegmentOut = Awaited<ReturnType<ReturnType<typeof createActivities>['bisectSegment']>>;

test(
  'bisectSegment: a stopping worker hands the segment back mid-projection; asked again it resumes ' +
    'that GD and answers as an uninterrupted bisection; a third ask is one cache hit',
  async () => {
    const stopping = new AbortController();
    const { acts, events } = setup(stopping);
    const p = pipeline([`lr=${0.3 + Math.random() / 10}`, 'threshold=0.9']);
    const parts = pathParts(p);
    const trained = (await new MockActivityEnvironment().run(acts.trainSeed, {
      runId: `act-${randomUUID()}`,
      seed: 1,
      parts,
      checkpointEvery: 0,
      noCache: false,
      untilEpoch: 1,
      knownIteration: -1,
    })) as TrainOut;
    const backend = backendLabel((await selectBackend('auto')).info);
    const input = {
      runId: `act-${randomUUID()}`,
      seed: 1,
      parts,
      a: trained.epochs[0]!,
      b: trained.epochs[1]!,
      backend,
      checkpointEvery: 0,
      noCache: false,
    };
    const env = new MockActivityEnvironment();
    env.on('heartbeat', () => {
      if (events.some((e) => e.event === 'projection-checkpoint' && (e.gdStep as number) >= 10)) stopping.abort();
    });
    const stopped = (await env.run(acts.bisectSegment, input)) as SegmentOut;
    assert.ok('preempted' in stopped, 'handed back, not failed');
    const resumes = () => events.filter((e) => e.event === 'projection-resume').length;
    const started = resumes();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(resumes(), started, 'no queued stage starts after the segment handed back');
    assert.equal(started, 1, 'only the projection in flight had started');
    assert.ok(stopped.computeMs.project > 0, 'the GD it did is counted');
    const resumed = setup();
    const done = (await new MockActivityEnvironment().run(resumed.acts.bisectSegment, input)) as SegmentOut;
    assert.ok(!('preempted' in done) && !done.cacheHit);
    const resume = resumed.events.find((e) => e.event === 'projection-resume' && (e.gdStep as number) > 0);
    assert.ok(resume && (resume.gdStep as number) >= 10, `resumed the handed-back GD: ${JSON.stringify(resume)}`);
    // The reference: the same bisection uninterrupted, under a run of its own and no cache.
    const whole = (await new MockActivityEnvironment().run(setup().acts.bisectSegment, {
      ...input,
      runId: `act-${randomUUID()}`,
      noCache: true,
    })) as SegmentOut;
    assert.ok(!('preempted' in whole));
    const view = (r: typeof whole & { points: unknown }) =>
      r.points.map((pt) => ({
        ...pt,
        state: pt.state.sha256,
        minimum: { ...pt.minimum, minimum: pt.minimum.minimum.sha256 },
      }));
    assert.deepEqual(view(done), view(whole));
    assert.deepEqual(done.counts, whole.counts);
    // Its stages' commits trail the numerics but have landed when it answers: the last one queued,
    // the final pair's line check, is in the cache.
    const [x, y] = done.points.slice(-2).map((pt) => pt.minimum.minimum);
    type LineOut = Awaited<ReturnType<ReturnType<typeof createActivities>['checkConnected']>>;
    const last = (await new MockActivityEnvironment().run(setup().acts.checkConnected, {
      parts,
      a: x!,
      b: y!,
      noCache: false,
    })) as LineOut;
    assert.ok(last.cacheHit, "the segment's last line check was committed before it answered");
    assert.equal(whole.counts.projections, whole.points.length, 'every projection is a point of the path');
    assert.equal(whole.counts.lineChecks, whole.points.length - 1 + whole.counts.replays, 'a check per pair tried');
    const again = (await new MockActivityEnvironment().run(setup().acts.bisectSegment, input)) as SegmentOut;
    assert.ok(!('preempted' in again) && again.cacheHit, 'the whole bisection from its cache entry');
    assert.deepEqual(view(again), view(done));
    assert.equal(
      Object.values(again.computeMs).reduce((x, y) => x + y, 0),
      0,
    );
  },
);

test('estimateTraces: the estimates of estimateTrace, in order, cached one by one', async () => {
  const { acts } = setup();
  const p = pipeline([`lr=${0.3 + Math.random() / 10}`, 'probes=4']);
  const parts = pathParts(p);
  const trained = (await new MockActivityEnvironment().run(acts.trainSeed, {
    runId: `act-${randomUUID()}`,
    seed: 1,
    parts,
    checkpointEvery: 0,
    noCache: false,
    untilEpoch: 2,
    knownIteration: -1,
  })) as TrainOut;
  const minima = [trained.epochs[2]!, trained.epochs[0]!];
  type TracesOut = Awaited<ReturnType<ReturnType<typeof createActivities>['estimateTraces']>>;
  const batch = (await new MockActivityEnvironment().run(acts.estimateTraces, {
    parts,
    minima,
    probeSeed: 3,
    noCache: false,
  })) as TracesOut;
  assert.ok(!('preempted' in batch));
  assert.equal(batch.estimates.length, 2);
  for (const [i, minimum] of minima.entries()) {
    const one = (await new MockActivityEnvironment().run(acts.estimateTrace, {
      parts,
      minimum,
      probeSeed: 3,
      noCache: true,
    })) as Awaited<ReturnType<ReturnType<typeof createActivities>['estimateTrace']>>;
    assert.ok(!('preempted' in one));
    assert.deepEqual(batch.estimates[i], one.value, `estimate ${i} as estimateTrace computes it`);
  }
  const again = (await new MockActivityEnvironment().run(acts.estimateTraces, {
    parts,
    minima,
    probeSeed: 3,
    noCache: false,
  })) as TracesOut;
  assert.ok(!('preempted' in again));
  assert.deepEqual([again.cacheHits, again.computeMs, again.estimates], [2, 0, batch.estimates]);
});

test(
  'replayState: a corrupt checkpoint of a replay in progress is skipped and logged, ' +
    'and the replay starts from its input',
  async () => {
    const { acts, events } = setup();
    const p = pipeline([`lr=${0.3 + Math.random() / 10}`, 'checkpointEvery=3']);
    const parts = pathParts(p);
    const trained = (await new MockActivityEnvironment().run(acts.trainSeed, {
      runId: `act-${randomUUID()}`,
      seed: 1,
      parts,
      checkpointEvery: 0,
      noCache: false,
      untilEpoch: 1,
      knownIteration: -1,
    })) as TrainOut;
    const from = trained.epochs[0]!;
    const ws = new PathWorkspace(store, config);
    const label = await ws.backend();
    const key = contentKey(
      'replay',
      stageKeyInputs(
        'replay',
        await ws.withDataHash(parts),
        { from: from.sha256, to: 7, seed: 1 },
        codeVersion(),
        label,
      ),
    );
    // a manifest of an in-progress replay at iteration 6 whose data never arrived
    const bad = `cache/replaying/${key}/000000000006/`;
    await store.put(
      `${bad}manifest.json`,
      Buffer.from(
        JSON.stringify({
          format: 'repro-checkpoint/1',
          step: 6,
          data: { key: `${bad}state.safetensors`, sha256: '0'.repeat(64), bytes: 1 },
        }),
      ),
      'application/json',
    );
    type ReplayOut = Awaited<ReturnType<ReturnType<typeof createActivities>['replayState']>>;
    const r = (await new MockActivityEnvironment().run(acts.replayState, {
      runId: 'replay-skip',
      seed: 1,
      parts,
      from,
      toIteration: 7,
      checkpointEvery: 3,
      noCache: false,
    })) as ReplayOut;
    assert.equal(r.value.iteration, 7);
    const skipped = events.find((e) => e.event === 'checkpoint-skipped' && e.stage === 'replay');
    assert.ok(
      skipped && String(skipped.manifestKey).startsWith(bad),
      `logged: ${JSON.stringify(events.filter((e) => e.event === 'checkpoint-skipped'))}`,
    );
  },
);

test('a stage input that does not verify is a non-retryable CorruptCheckpoint', async () => {
  const { acts } = setup();
  const p = pipeline([]);
  const trained = (await new MockActivityEnvironment().run(acts.trainSeed, {
    runId: `act-${randomUUID()}`,
    seed: 2,
    parts: pathParts(p),
    checkpointEvery: 0,
    noCache: true,
    untilEpoch: 1,
    knownIteration: -1,
  })) as TrainOut;
  const forged = { ...trained.epochs[1]!, sha256: '0'.repeat(64) };
  await assert.rejects(
    new MockActivityEnvironment().run(acts.projectState, {
      runId: 'x',
      parts: pathParts(p),
      state: forged,
      noCache: true,
    }),
    (e: unknown) =>
      e instanceof ApplicationFailure &&
      e.type === 'CorruptCheckpoint' &&
      e.nonRetryable &&
      /does not verify/.test(e.message),
  );
});

test('a state this worker just saved is loaded without S3; another worker reads and verifies it there', async () => {
  const ws = new PathWorkspace(store, config);
  const s = { step: 3, theta: Float32Array.from([1, 2, 3]), velocity: null };
  const ref = await ws.saveState(`tmp/${randomUUID()}/`, s, {});
  const manifest = JSON.parse(Buffer.from(await store.get(ref.key)).toString());
  await store.delete(manifest.data.key);
  const held = await ws.loadState(ref);
  assert.deepEqual([held.step, [...held.theta]], [3, [1, 2, 3]], 'the bytes it committed, from memory');
  held.theta[0] = 9; // a stage's own copy: what is held stays as committed
  assert.equal((await ws.loadState(ref)).theta[0], 1);
  await assert.rejects(new PathWorkspace(store, config).loadState(ref), /does not verify/);
});

test('a cached training checkpoint whose data is corrupt is recomputed, not trusted: the stage goes on', async () => {
  const { acts } = setup();
  const p = pipeline([`lr=${0.3 + Math.random() / 10}`]); // a trajectory of its own
  const base = { runId: `act-${randomUUID()}`, seed: 3, parts: pathParts(p), checkpointEvery: 0, noCache: false };
  const trained = (await new MockActivityEnvironment().run(acts.trainSeed, {
    ...base,
    untilEpoch: 2,
    knownIteration: -1,
  })) as TrainOut;
  const epoch1 = trained.epochs[1]!;
  const manifest = JSON.parse(Buffer.from(await store.get(epoch1.key)).toString());
  await store.put(manifest.data.key, Buffer.from('corrupted bytes'));
  // The cached path hands the reference out from manifests alone, as before ...
  const cached = (await new MockActivityEnvironment().run(acts.trainSeed, {
    ...base,
    untilEpoch: 2,
    knownIteration: -1,
  })) as TrainOut;
  assert.deepEqual(cached.epochs[1], epoch1);
  // ... and a stage that reads it from S3 (on another worker: this one holds the bytes it saved)
  // recomputes the state from epoch 0 and puts the same bytes back.
  const projected = (await new MockActivityEnvironment().run(setup().acts.projectState, {
    runId: base.runId,
    parts: pathParts(p),
    state: epoch1,
    noCache: true,
  })) as ProjectOut;
  assert.ok(!('preempted' in projected));
  const restored = await checkpoints.tryLoad(epoch1.key);
  assert.ok(typeof restored !== 'string', `the checkpoint verifies again (${String(restored)})`);
  assert.equal(restored.manifest.data.sha256, epoch1.sha256);
});

test(
  'estimateTrace: a stopping worker gets "preempted" between HVPs and nothing is cached; ' +
    'the next attempt estimates in full',
  async () => {
    const stopping = new AbortController();
    const { acts } = setup(stopping);
    const p = pipeline([`lr=${0.3 + Math.random() / 10}`, 'probes=8']);
    const trained = (await new MockActivityEnvironment().run(acts.trainSeed, {
      runId: `act-${randomUUID()}`,
      seed: 1,
      parts: pathParts(p),
      checkpointEvery: 0,
      noCache: false,
      untilEpoch: 1,
      knownIteration: -1,
    })) as TrainOut;
    // Later stages get the parts with the data's content hash, as the workflow passes them on.
    const parts = withData(pathParts(p), trained.key!.data!);
    const input = { parts, minimum: trained.epochs[1]!, probeSeed: 1, noCache: false };
    const env = new MockActivityEnvironment();
    env.on('heartbeat', () => stopping.abort());
    type TraceOut = Awaited<ReturnType<ReturnType<typeof createActivities>['estimateTrace']>>;
    assert.ok('preempted' in ((await env.run(acts.estimateTrace, input)) as TraceOut));
    const full = (await new MockActivityEnvironment().run(setup().acts.estimateTrace, input)) as TraceOut;
    assert.ok(!('preempted' in full) && !full.cacheHit, 'the preempted attempt left nothing in the cache');
    assert.ok(Number.isFinite(full.value.trace) && full.value.hvps === 8);
    // The stage names the backend that ran it, and its cache entry is keyed by that backend only.
    const label = await new PathWorkspace(store, config).backend();
    assert.equal(full.backend, label);
    const lookup = (backend: string) =>
      new MockActivityEnvironment().run(acts.lookupTraces, {
        parts: input.parts,
        backend,
        minima: [input.minimum],
        probeSeed: 1,
      });
    assert.deepEqual(await lookup(label), [full.value], 'served under the backend that computed it');
    assert.deepEqual(
      await lookup('cpu (@tensorflow/tfjs-backend-cpu@0.0.0)'),
      [null],
      'never served to another backend',
    );
  },
);

test(
  'a convolutional model trains on the preferred backend, WASM included ' +
    '(its filter gradient is a forward convolution)',
  async () => {
    const ws = new PathWorkspace(store, config);
    const preferred = await selectBackend(config.backend);
    await useBackend('cpu');
    assert.equal(
      await ws.backend(),
      backendLabel(preferred.info),
      'a process left on another backend is switched back',
    );
    assert.equal(tf.getBackend(), preferred.info.name);
    const model = buildModel('small-cnn@8x8x1');
    const trainer = new Trainer({
      model,
      data: mnistSubset('train', 32, 8, 4, false),
      loss: 'lsce',
      smoothing: 0.1,
      batchSize: 16,
      seed: 1,
      sgd: { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0 },
    });
    const s = await trainer.run({ step: 0, theta: model.init(1), velocity: null }, 2);
    assert.ok(s.theta.every(Number.isFinite) && s.step === 2);
    assert.equal(tf.getBackend(), preferred.info.name, 'it ran there');
  },
);

// --- studies ---

test(
  'advanceUnit: a stopping worker gets "preempted" with the unit committed; ' +
    'the next attempt resumes there and the output equals an uninterrupted run',
  async () => {
    const { params } = planRun('fig2b', 'small', ['repeats=8', `noise=${0.04 + Math.random() / 100}`]);
    const unit = { id: 'lr=0.05', phase: 0, steps: 8, checkpointEvery: 2, queue: 'cpu' as const, args: { lr: 0.05 } };
    const input = {
      runId: `act-${randomUUID()}`,
      experiment: 'fig2b',
      params,
      seed: 1,
      unit,
      upstream: [],
      noCache: true,
    };
    const stopping = new AbortController();
    const { acts, events } = setup(stopping);
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: { step?: number }) => {
      if ((d.step ?? 0) >= 3) stopping.abort();
    });
    const stopped = (await env.run(acts.advanceUnit, input)) as UnitOut;
    assert.ok(stopped.preempted && !stopped.done && stopped.step >= 3 && stopped.step < 8, JSON.stringify(stopped));
    const resumed = setup();
    const done = (await new MockActivityEnvironment().run(resumed.acts.advanceUnit, input)) as UnitOut;
    assert.ok(done.done && !done.preempted && !done.cacheHit);
    assert.equal(
      resumed.events.find((e) => e.event === 'resume')!.step,
      stopped.step,
      'resumed where the stopped attempt committed',
    );
    assert.ok(events.some((e) => e.event === 'preempted' && e.unit === 'lr=0.05'));
    const whole = { ...input, runId: `act-${randomUUID()}` };
    const wholeOut = (await new MockActivityEnvironment().run(setup().acts.advanceUnit, whole)) as UnitOut;
    const read = async (root: string) => JSON.parse(Buffer.from(await store.get(`${root}output.json`)).toString());
    assert.ok(done.key!.root.startsWith(`runs/${input.runId}/units/lr%3D0.05/`), done.key!.root);
    assert.deepEqual(await read(done.key!.root), await read(wholeOut.key!.root));
    const again = (await new MockActivityEnvironment().run(setup().acts.advanceUnit, input)) as UnitOut;
    assert.ok(again.done && again.cacheHit && again.computeMs === 0, 'a finished unit answers from its stored output');
  },
);

test(
  'a result is written once: a retry returns the stored one unchanged; ' + 'other inputs under its id are refused',
  async () => {
    const deps = { store, config, stopping: new AbortController().signal, log: () => {}, codeVersion: codeVersion() };
    const runId = `once-${randomUUID().slice(0, 8)}`;
    const base = {
      runId,
      experiment: 'fig2b',
      preset: 'small',
      status: 'completed' as const,
      params: { repeats: 8 },
      seed: 1,
      backends: ['float64-js'],
      claims: [],
      summary: {},
      codeVersion: codeVersion(),
      finishedAt: '2026-01-01T00:00:00.000Z',
    };
    const first = await writeRunArtifacts(deps, base, 'title', []);
    const bytes = Buffer.from(await store.get(`runs/${runId}/result.json`));
    const retry = await writeRunArtifacts(deps, { ...base, finishedAt: '2026-02-02T00:00:00.000Z' }, 'title', []);
    assert.deepEqual(retry, first, 'the retry gets the stored result');
    await assert.rejects(
      writeRunArtifacts(deps, { ...base, params: { repeats: 9 } }, 'title', []),
      (e: Error) => e instanceof ApplicationFailure && e.type === 'InputMismatch' && /written once/.test(e.message),
    );
    assert.deepEqual(Buffer.from(await store.get(`runs/${runId}/result.json`)), bytes, 'byte for byte unchanged');
  },
);

test(
  'advanceUnit on CIFAR-10: not imported, a non-retryable DataMissingError saying how to import it; ' +
    'imported, the unit reads it, and another archive is another unit',
  async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'repro-act-cifar-'));
    const acts = createActivities({
      store,
      config: { ...config, dataDir },
      stopping: new AbortController().signal,
      log: () => {},
      codeVersion: codeVersion(),
    });
    const { params } = planRun('fig5', 'paper', ['samples=16', 'batch=8', 'epochs=1', 'csSamples=4', 'csProbes=2']);
    const unit = (await findStudy('fig5').open(params)).units.find((u) => u.id === 'mse')!;
    const input = {
      runId: `act-${randomUUID()}`,
      experiment: 'fig5',
      params,
      seed: 1,
      unit,
      upstream: [],
      noCache: true,
    };
    await assert.rejects(
      new MockActivityEnvironment().run(acts.advanceUnit, input),
      (e: Error) =>
        e instanceof ApplicationFailure &&
        e.type === 'DataMissingError' &&
        e.nonRetryable === true &&
        !e.message.includes('\n') &&
        /^CIFAR-10 is not on this machine .*repro data import cifar10/.test(e.message),
    );
    const identities: string[] = [];
    for (const salt of [0, 1]) {
      const archive = path.join(dataDir, `cifar-${salt}.tar.gz`);
      const bytes = cifarArchive(10, dataDir, salt);
      writeFileSync(archive, bytes);
      importCifar(10, archive, path.join(dataDir, 'datasets'), createHash('md5').update(bytes).digest('hex'));
      const out = (await new MockActivityEnvironment().run(acts.advanceUnit, input)) as UnitOut;
      assert.ok(out.done && !out.cacheHit, JSON.stringify(out));
      const stored = JSON.parse(Buffer.from(await store.get(`${out.key!.root}output.json`)).toString());
      assert.deepEqual([stored.output.data.dataset, stored.output.data.inputs], ['cifar10', 49]);
      identities.push(out.key!.identity);
    }
    assert.notEqual(identities[0], identities[1], "a re-imported archive is not answered from the old one's unit");
  },
);
