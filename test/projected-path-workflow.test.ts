/** The projected-path pipeline on the real Temporal dev server and S3 server, small settings. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { makeObjectStore } from '../infra/clients';
import { awaitResult, runProgress, startRun } from '../infra/cli/runs';
import { planRun } from '../src/experiments/registry';
import { backendLabel, selectBackend, useBackend } from '../src/engine/backend';
import { inProcessWorkers } from './in-process-workers';
import { sleep, testConfig, uniqueQueues } from './helpers';

Runtime.install({ logger: new DefaultLogger('WARN') });
const config = testConfig(uniqueQueues());
const store = makeObjectStore(config);
let env: TestWorkflowEnvironment;
let stop: () => Promise<void>;

before(async () => {
  await useBackend('wasm');
  ({ env, stop } = await inProcessWorkers(config, store));
});
after(async () => {
  await stop();
});

const SETS = [
  'model=mlp:49-20-10',
  'samples=200',
  'valSamples=100',
  'epochs=2',
  'seeds=2',
  'batch=20',
  'lr=0.5',
  'threshold=0.75',
  'margin=0.02',
  'probes=8',
];

/** `base` with `more` overriding its keys (each key given once, as --set wants). */
const overriding = (base: string[], more: string[]): string[] => [
  ...new Map([...base, ...more].map((kv) => [kv.split('=')[0]!, kv])).values(),
];

type PathResult = {
  path: Array<{
    seed: number;
    iteration: number;
    gdSteps?: number;
    reached?: boolean;
    trainLoss: number;
    valLoss: number;
    trace: number | null;
    depth: number;
  }>;
  counts: { trainSteps: number; projections: number; replays: number; lineChecks: number; cacheHits: number };
  claims: Array<{ id: string; kind: string; verdict: string; measured: number; interval?: { lo: number; hi: number } }>;
  backends: string[];
  summary: {
    points: number;
    time: { wallSeconds: number; computeSeconds: number; computeSecondsByStage: Record<string, number> };
    perSeed: Array<{
      seed: number;
      points: number;
      maxDepth: number;
      connectedPairs: number;
      unconnectedPairs: number;
      unconnectedAfterSettle: number;
      unconnected: unknown[];
      backends: string[];
    }>;
    traceByEpoch: Array<{ epoch: number; mean: number; std: number | null; seeds: number }>;
  };
};
const run = async (params: Record<string, unknown>, noCache = false): Promise<PathResult> => {
  const { experiment } = planRun('projected-path', 'small', SETS);
  return (await awaitResult(
    await startRun(env.client, config, experiment, 'small', params as never, 1, `pp-${randomUUID()}`, noCache),
    store,
  )) as unknown as PathResult;
};

test(
  'projected path over 2 seeds: minima below the threshold, traces along the path; ' +
    'a re-run reuses every cached stage',
  async () => {
    const { params } = planRun('projected-path', 'small', SETS);
    const first = await run(params);
    for (const seed of [1, 2]) {
      const rows = first.path.filter((r) => r.seed === seed);
      assert.deepEqual(
        [rows[0]!.iteration, rows[rows.length - 1]!.iteration],
        [0, 20],
        `seed ${seed} spans the two epochs`,
      );
      assert.deepEqual(
        rows.map((r) => r.iteration),
        [...rows.map((r) => r.iteration)].sort((a, b) => a - b),
      );
    }
    for (const r of first.path) {
      assert.ok(
        r.trainLoss < 0.75 - 0.02,
        `projected point at ${r.iteration} has loss ${r.trainLoss}, below threshold − margin`,
      );
      assert.ok(Number.isFinite(r.valLoss) && r.trace !== null && Number.isFinite(r.trace));
      assert.ok(
        r.reached === true && Number.isInteger(r.gdSteps),
        `the row says what its projection took: ${r.gdSteps}`,
      );
    }
    assert.ok(
      first.path.some((r) => r.gdSteps! > 0),
      'some state above the threshold took GD steps to project',
    );
    assert.equal(first.counts.trainSteps, 2 * 20);
    assert.ok(first.counts.projections >= 6 && first.counts.lineChecks >= 4);
    assert.deepEqual(
      first.claims.map((c) => `${c.id}:${c.kind}`),
      ['path-connected:within', 'trace-decreases:sign'],
    );
    assert.equal(first.claims[0]!.verdict, 'pass', 'the path is connected: ' + JSON.stringify(first.summary.perSeed));
    assert.equal(first.claims[0]!.measured, 0);
    const trend = first.claims[1]!;
    assert.ok(
      trend.interval && trend.interval.lo <= trend.measured && trend.measured <= trend.interval.hi,
      'the trend has its interval over seeds',
    );
    assert.equal(trend.verdict, trend.interval!.hi < 0 ? 'pass' : trend.interval!.lo > 0 ? 'fail' : 'inconclusive');
    for (const s of first.summary.perSeed) {
      const rows = first.path.filter((r) => r.seed === s.seed);
      assert.equal(s.points, rows.length);
      assert.equal(
        s.connectedPairs + s.unconnectedPairs,
        rows.length - 1,
        `seed ${s.seed}: every consecutive pair is counted`,
      );
      assert.equal(
        s.unconnectedAfterSettle,
        0,
        'connected after the first epoch (SGD at lr 0.5 still jumps barriers in it)',
      );
      assert.equal(s.maxDepth, Math.max(...rows.map((r) => r.depth)));
    }
    assert.equal(first.backends.length, 1, `one backend ran the numerics: ${first.backends.join(', ')}`);
    assert.equal(
      first.backends[0],
      backendLabel((await selectBackend(config.backend, config.torch)).info),
      'the preferred backend',
    );
    assert.ok(first.summary.traceByEpoch.every((e) => e.seeds === 2 && e.std !== null));
    assert.equal(first.summary.points, first.path.length);
    const t = first.summary.time;
    assert.ok(
      t.computeSecondsByStage.train! > 0 && t.computeSecondsByStage.project! > 0 && t.computeSecondsByStage.trace! > 0,
      JSON.stringify(t),
    );
    assert.ok(t.computeSeconds > 0 && t.wallSeconds > 0);

    const again = await run(params);
    assert.deepEqual(again.path, first.path, 'identical path from cached stages');
    const stages = first.counts.projections + first.counts.replays + first.counts.lineChecks + first.path.length;
    assert.equal(again.counts.cacheHits, stages, 'every projection, replay, line check and trace came from the cache');
    assert.equal(again.counts.trainSteps, 0, 'training is reused from the content-keyed checkpoints');
    assert.equal(again.summary.time.computeSeconds, 0, 'a cached re-run does no numerical work');

    const longer = await run({ ...params, epochs: 3 });
    assert.equal(longer.counts.trainSteps, 2 * 10, 'a longer run of the same trajectory trains only the new epoch');
    // The last point of the shorter path had no segment after it; in the longer one it has.
    const lastOpen = (r: PathResult['path'][number]) => (r.iteration === 20 ? { ...r, barrier: null } : r);
    assert.deepEqual(
      longer.path.filter((r) => r.iteration <= 20).map(lastOpen),
      first.path,
      'and shares the first two epochs',
    );

    const fresh = await run(params, true);
    assert.equal(fresh.counts.cacheHits, 0, '--no-cache recomputes');
    assert.deepEqual(fresh.path, first.path, 'and gets the same answers');
  },
);

test(
  'a broken path fails its claim: projections that stop at the threshold itself (margin 0) ' +
    'leave adjacent minima unconnected',
  async () => {
    const { params } = planRun('projected-path', 'small', overriding(SETS, ['seeds=1', 'margin=0']));
    const broken = await run(params);
    const connected = broken.claims.find((c) => c.id === 'path-connected')!;
    assert.equal(connected.verdict, 'fail');
    const seed = broken.summary.perSeed[0]!;
    assert.ok(
      seed.unconnectedAfterSettle > 0 && seed.unconnectedAfterSettle === connected.measured,
      JSON.stringify(seed),
    );
    assert.ok(seed.maxDepth > 0 && seed.unconnected.length > 0, 'bisected down to adjacent iterations');
    assert.equal(
      broken.claims.find((c) => c.id === 'trace-decreases')!.verdict,
      'inconclusive',
      'one seed gives no interval',
    );
  },
);

test(
  'a seed whose history grows long continues as new during training ' + 'and carries its committed epochs over',
  async () => {
    const { experiment, params } = planRun(
      'projected-path',
      'small',
      overriding(SETS, ['seeds=1', 'epochs=11', 'lr=0.45']),
    );
    const short = { ...config, workflows: { continueAsNewEvents: 5 } };
    const runId = `pp-can-${randomUUID()}`;
    const handle = await startRun(env.client, short, experiment, 'small', params, 1, runId);
    let progress: Record<string, { step: number; of: number }> | undefined;
    for (const t0 = Date.now(); !progress?.['seed/1 training (epochs)']; await sleep(50)) {
      assert.ok(Date.now() - t0 < 60_000, `no seed progress within 60 s: ${JSON.stringify(progress)}`);
      ({ progress } = await runProgress(env.client, handle));
    }
    assert.deepEqual(progress.seeds, { step: 0, of: 1 }, 'the run counts its seeds');
    assert.equal(progress['seed/1 training (epochs)'].of, 11, 'each seed reports its phase');
    const result = (await awaitResult(handle, store)) as unknown as PathResult;
    const executions: string[] = [];
    for await (const w of env.client.workflow.list({ query: `WorkflowId = "run/${runId}/seed/1"` }))
      executions.push(`${w.runId} ${w.status.name} ${w.historyLength}`);
    assert.ok(
      executions.length >= 3,
      `11 epochs in segments of 5 with a 5-event limit: at least 3 runs of the seed workflow, ` +
        `saw ${executions.join(', ')}`,
    );
    assert.equal(result.counts.trainSteps, 11 * 10, 'every epoch trained once');
    const iterations = result.path.map((r) => r.iteration);
    for (let e = 0; e <= 11; e++) assert.ok(iterations.includes(e * 10), `epoch ${e} is on the path`);
  },
);

test("a bad-minimum start's numerics count as training, across a seed's continue-as-new", async () => {
  const { experiment, params } = planRun(
    'projected-path',
    'small',
    overriding(SETS, ['seeds=1', 'epochs=6', 'start=bad-minimum', 'corruptSamples=50', 'badEpochs=2', 'badGdSteps=20']),
  );
  const short = { ...config, workflows: { continueAsNewEvents: 5 } };
  const runId = `pp-bad-${randomUUID()}`;
  const result = (await awaitResult(
    await startRun(env.client, short, experiment, 'small', params, 1, runId),
    store,
  )) as unknown as PathResult;
  // What the seed's activities reported, read from the histories of every run of its workflow.
  const reported: Record<string, number> = {};
  let runs = 0;
  for await (const w of env.client.workflow.list({ query: `WorkflowId = "run/${runId}/seed/1"` })) {
    runs++;
    const events = (await env.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory()).events ?? [];
    const types = new Map<string, string>();
    for (const e of events) {
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (scheduled) types.set(String(e.eventId), scheduled.activityType!.name!);
      const done = e.activityTaskCompletedEventAttributes;
      if (!done) continue;
      const type = types.get(String(done.scheduledEventId))!;
      const value = defaultPayloadConverter.fromPayload<{ computeMs?: number }>(done.result!.payloads![0]!);
      if (type === 'prepareStart' || type === 'trainSeed') reported[type] = (reported[type] ?? 0) + value.computeMs!;
    }
  }
  assert.ok(runs >= 2, `the seed continued as new after its bad minimum was prepared (${runs} runs)`);
  assert.ok(reported.prepareStart! > 0 && reported.trainSeed! > 0, JSON.stringify(reported));
  assert.ok(
    Math.abs(result.summary.time.computeSecondsByStage.train! - (reported.prepareStart! + reported.trainSeed!) / 1000) <
      0.002,
    `training numerics ${result.summary.time.computeSecondsByStage.train} s: the start's and the epochs' ` +
      JSON.stringify(reported),
  );
});
