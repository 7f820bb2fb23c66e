/**
 * Rolling upgrade: a run starts on workers of version N; workers of version N+1 (a changed
 * workflow, patched) start beside them; the old ones stop (their running units checkpoint and
 * hand back); the run completes on N+1 with the same result as a run that never saw an upgrade.
 * The recorded-history replay test (workflows.test.ts) keeps guarding every workflow's
 * determinism across such changes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities, type LogEvent } from '../activities';
import { codeVersion, makeObjectStore } from '../infra/clients';
import { awaitResult, startRun } from '../infra/cli/runs';
import { planRun } from '../src/experiments/registry';
import { SA } from '../workflows/search-attributes';
import type { RunResult } from '../src/results/run-result';
import { startWorker, testConfig, uniqueQueues, type WorkerProcess } from './helpers';

const config = testConfig(uniqueQueues());
const store = makeObjectStore(config);

const events: LogEvent[] = [];

async function workers(
  env: TestWorkflowEnvironment,
  workflowsPath: string,
  buildId: string,
): Promise<{ stop: () => Promise<void> }> {
  const stopping = new AbortController();
  const activities = createActivities({
    store,
    config,
    stopping: stopping.signal,
    log: (e) => events.push(e),
    codeVersion: codeVersion(),
  });
  const ws = await Promise.all(
    [config.taskQueues.cpu, config.taskQueues.gpu].map((taskQueue) =>
      Worker.create({
        connection: env.nativeConnection,
        namespace: config.temporal.namespace,
        taskQueue,
        workflowsPath,
        activities,
        shutdownGraceTime: '20s',
        // Two versions side by side in one process need distinct deployment build ids (as pods of two releases have).
        workerDeploymentOptions: { version: { deploymentName: 'repro', buildId }, useWorkerVersioning: false },
      }),
    ),
  );
  const running = Promise.all(ws.map((w) => w.run()));
  return {
    stop: async () => {
      stopping.abort(); // running segments commit a checkpoint and hand back, as on SIGTERM
      ws.forEach((w) => w.shutdown());
      await running;
    },
  };
}

test('a run started on version N completes on N+1 workers with the result of an undisturbed run', async () => {
  const env = await TestWorkflowEnvironment.createFromExistingServer({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
  });
  try {
    const plan = planRun('fig7', 'default', ['steps=24000000', 'checkpointEvery=2000000']);
    const n = await workers(env, require.resolve('../workflows'), 'repro-N');
    const runId = `upgrade-${randomUUID().slice(0, 8)}`;
    // --no-cache: the reference run below must compute, not find this run's units in the cache.
    const handle = await startRun(env.client, config, plan.experiment, 'default', plan.params, 5, runId, true);
    const committed = (unit: string): number =>
      Math.max(
        0,
        ...events
          .filter((e) => e.event === 'checkpoint' && e.runId === runId && e.unit === unit)
          .map((e) => Number(e.step)),
      );
    // until each trajectory has committed a few checkpoints on version N
    while (committed('gd') < 4_000_000 || committed('noisy') < 4_000_000) await new Promise((r) => setTimeout(r, 200));
    const next = await workers(env, require.resolve('./upgrade/workflows-next'), 'repro-N+1');
    await n.stop();
    const upgraded = await awaitResult(handle, store);
    assert.notEqual(
      (await handle.describe()).typedSearchAttributes.get(SA.stage),
      'started by N+1',
      "the run kept version N's path (no patch marker in its history)",
    );
    // An undisturbed run of the same input on N+1 (it takes the patch) gives the same numbers.
    const fresh = await awaitResult(
      await startRun(
        env.client,
        config,
        plan.experiment,
        'default',
        plan.params,
        5,
        `upgrade-ref-${randomUUID().slice(0, 8)}`,
        true,
      ),
      store,
    );
    await next.stop();
    assert.deepEqual(
      upgraded.claims.map((c) => [c.id, c.measured, c.verdict]),
      fresh.claims.map((c) => [c.id, c.measured, c.verdict]),
    );
    // The same numbers everywhere but where the run's own objects are and how long it took.
    const numbers = (r: typeof fresh): Record<string, unknown> =>
      Object.fromEntries(Object.entries(r.summary).filter(([k]) => k !== 'checkpoints' && k !== 'time'));
    assert.deepEqual(numbers(upgraded), numbers(fresh));
  } finally {
    await env.teardown();
  }
});

/**
 * Two real numeric versions side by side (worker processes on the torch backend, then on WASM:
 * their trajectories differ in the last bits, and their cache keys differ as two code versions'
 * do). A projected path and a study start on version N; N+1 starts; N is stopped mid-training.
 * Neither run may splice: each must equal, number for number, an undisturbed run on N+1 alone
 * (the seed's trajectory started over there, the unit restarted there).
 */
test(
  'across two numeric versions a projected path and a study never splice: ' + 'both equal an undisturbed N+1 run',
  async () => {
    const queues = uniqueQueues();
    const env = await TestWorkflowEnvironment.createFromExistingServer({
      address: config.temporal.address,
      namespace: config.temporal.namespace,
    });
    const pathSets = [
      'model=mlp:49-20-10',
      'samples=2000',
      'valSamples=100',
      'batch=10',
      'epochs=30',
      'seeds=1',
      'lr=0.05',
      // Every state already counts as a minimum: projections and line checks stay cheap, the path is the epochs.
      'threshold=5',
      'margin=0',
      'probes=4',
      'traceStride=1000',
    ];
    // The study's unit is twice the path's training, so that it is still running when N stops.
    const studySets = ['samples=2000', 'side=8', 'batch=10', 'epochs=60', 'hessianSamples=32', 'lanczosSteps=4'];
    const path = planRun('projected-path', 'small', pathSets);
    const study = planRun('fig6', 'small', studySets);
    const qc = testConfig(queues);
    const start = (p: typeof path, preset: string, id: string) =>
      startRun(env.client, qc, p.experiment, preset, p.params, 3, id, true);
    // Two gpu slots: both units train side by side, so that both are mid-training when N stops (with one
    // slot the study may take it between the path's segments and finish before the path is far enough).
    // N on the torch backend's tfjs kernels: with native programs (the default) its study unit ran
    // ahead of the path's training and finished before the path had a segment to stop in.
    const n = startWorker({ ...queues, 'worker.gpuSlots': '2' }, { REPRO_TORCH_NATIVE: 'off' });
    let next: WorkerProcess | undefined;
    try {
      await n.waitFor((e) => e.event === 'worker-ready');
      const tag = randomUUID().slice(0, 8);
      const upgradedPath = await start(path, 'small', `up-path-${tag}`);
      const upgradedStudy = await start(study, 'small', `up-study-${tag}`);
      // Version N has committed training beyond the first segment (5 epochs) and a checkpoint of the unit.
      await n.waitFor(
        (e) => e.event === 'checkpoint' && e.runId === `up-path-${tag}` && Number(e.step) >= 5 * 200,
        120_000,
      );
      // Stop N at once, before N+1 starts: waiting for N+1's start-up first let N finish the unit.
      const unitCheckpoint = (e: Record<string, unknown>): boolean =>
        e.event === 'checkpoint' && e.runId === `up-study-${tag}` && e.unit === 'sgd';
      await n.waitFor(unitCheckpoint, 120_000);
      n.child.kill('SIGTERM'); // running activities commit and hand back
      assert.equal(await n.exited, 0);
      assert.ok(
        n.events.some((e) => e.event === 'preempted' && e.runId === `up-study-${tag}` && e.unit === 'sgd'),
        `N stopped in the middle of the unit: ${JSON.stringify(n.events.filter(unitCheckpoint).slice(-3))}`,
      );
      next = startWorker({ ...queues, backend: 'wasm' });
      await next.waitFor((e) => e.event === 'worker-ready');
      const pathResult = (await awaitResult(upgradedPath, makeObjectStore(qc))) as RunResult & { path: unknown[] };
      const studyResult = await awaitResult(upgradedStudy, makeObjectStore(qc));
      assert.ok(
        next.events.some((e) => e.event === 'resume' && e.runId === `up-study-${tag}` && e.step === 0),
        "the unit started over on N+1 (under N+1's key)",
      );
      const refPath = (await awaitResult(
        await start(path, 'small', `ref-path-${tag}`),
        makeObjectStore(qc),
      )) as RunResult & {
        path: unknown[];
      };
      const refStudy = await awaitResult(await start(study, 'small', `ref-study-${tag}`), makeObjectStore(qc));
      assert.deepEqual(pathResult.backends, refPath.backends, 'the path was computed by N+1 alone');
      assert.deepEqual(pathResult.path, refPath.path, 'the path is one trajectory: the undisturbed N+1 one');
      assert.deepEqual(
        pathResult.claims.map((c) => [c.id, c.measured]),
        refPath.claims.map((c) => [c.id, c.measured]),
      );
      assert.deepEqual(
        studyResult.claims.map((c) => [c.id, c.measured]),
        refStudy.claims.map((c) => [c.id, c.measured]),
        'the study equals an undisturbed N+1 run',
      );
    } finally {
      n.child.kill('SIGKILL');
      if (next) {
        next.child.kill('SIGTERM');
        await next.exited;
      }
      await env.teardown();
    }
  },
);
