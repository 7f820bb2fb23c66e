/** Workflow tests on the real Temporal dev server, with the real activities and S3 server. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createActivities, type LogEvent } from '../activities';
import { codeVersion, makeObjectStore } from '../infra/clients';
import { startRun } from '../infra/cli/runs';
import { CheckpointStore } from '../src/checkpoint/checkpoint-store';
import { fig7Params } from '../src/experiments/fig7/definition';
import { advance, initialState } from '../src/experiments/fig7/toy';
import { planRun } from '../src/experiments/registry';
import type { RunResult } from '../src/results/run-result';
import { layout } from '../src/storage/layout';
import { ROOT, testConfig, uniqueQueues } from './helpers';

Runtime.install({ logger: new DefaultLogger('WARN') });

const config = testConfig(uniqueQueues());
const store = makeObjectStore(config);
const events: LogEvent[] = [];
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  env = await TestWorkflowEnvironment.createFromExistingServer({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
  });
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueues.cpu,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({
      store,
      config,
      stopping: new AbortController().signal,
      log: (e) => events.push(e),
      codeVersion: codeVersion(),
    }),
  });
  running = worker.run();
});

after(async () => {
  worker.shutdown();
  await running;
  await env.teardown();
});

test(
  'fig7 runs end to end: claims hold, artifacts are in S3, ' + 'final states equal an in-process run bit for bit',
  async () => {
    const { experiment, params } = planRun('fig7', 'quick', []);
    const handle = await startRun(env.client, config, experiment, 'quick', params, 5, `wf-${randomUUID()}`);
    const result = (await handle.result()) as RunResult;
    assert.equal(result.status, 'completed');
    assert.deepEqual(
      result.claims.map((c) => [c.id, c.verdict]),
      [
        ['noisy-theta2-equilibrium', 'pass'],
        ['noisy-theta1-equipartition', 'pass'],
      ],
    );
    const p = fig7Params.check('fig7', params);
    for (const variant of ['gd', 'noisy'] as const) {
      const s = initialState(p);
      advance(s, p, variant, 5, p.steps);
      assert.deepEqual((result.summary.final as Record<string, number[]>)[variant], [s.theta1, s.theta2], variant);
    }
    const stored = JSON.parse(Buffer.from(await store.get(layout.result(result.runId))).toString());
    assert.deepEqual(stored, result);
    const report = Buffer.from(await store.get(layout.artifact(result.runId, 'report.html'))).toString();
    assert.equal((report.match(/data-verdict="pass"/g) ?? []).length, 2, 'the report lists both claims as passed');
    const svg = Buffer.from(await store.get(layout.artifact(result.runId, 'fig7-theta2.svg'))).toString();
    assert.match(svg, /^<svg[^>]*>[\s\S]*<path[\s\S]*<\/svg>$/, 'the figure is a rendered Vega-Lite SVG');
    assert.equal(result.artifacts['figure:fig7-theta2'], store.url(layout.artifact(result.runId, 'fig7-theta2.svg')));
    const spec = JSON.parse(
      Buffer.from(await store.get(layout.artifact(result.runId, 'fig7-theta2.vl.json'))).toString(),
    );
    assert.ok(
      spec.$schema.includes('vega-lite') && JSON.stringify(spec).includes('"values"'),
      'the Vega-Lite spec is stored with its data',
    );
  },
);

test('cancel: the running units write a final checkpoint, then the run ends cancelled', async () => {
  const { experiment, params } = planRun('fig7', 'default', ['steps=2000000000', 'checkpointEvery=1000000000'], {
    allowLarge: true,
  });
  const runId = `wf-${randomUUID()}`;
  const handle: WorkflowHandle = await startRun(env.client, config, experiment, 'default', params, 1, runId, true);
  // Wait for the state the test needs (both units running), however long a busy machine takes.
  while (events.filter((e) => e.event === 'resume' && e.runId === runId).length < 2)
    await new Promise((r) => setTimeout(r, 100));
  await handle.cancel();
  await assert.rejects(
    handle.result(),
    (e: Error) => e instanceof WorkflowFailedError && e.cause instanceof CancelledFailure,
  );
  const checkpoints = new CheckpointStore(store);
  for (const unit of ['gd', 'noisy']) {
    const logged = events.find((e) => e.event === 'cancelled' && e.runId === runId && e.unit === unit);
    assert.ok(logged, `${unit} saw the cancellation`);
    const root = events.find((e) => e.event === 'checkpoint' && e.runId === runId && e.unit === unit)!.root;
    const latest = await checkpoints.loadLatest(String(root));
    assert.equal(latest?.manifest.step, logged.step, `${unit} committed the step it had reached`);
  }
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
});

// Each recorded history with the workflow id it ran under (child ids derive from it).
const fixtures = path.join(ROOT, 'test', 'fixtures');
const recorded = JSON.parse(readFileSync(path.join(fixtures, 'histories.json'), 'utf8')) as Record<string, string>;
test('every recorded history is listed with its workflow id', () => {
  assert.deepEqual(
    Object.keys(recorded).sort(),
    readdirSync(fixtures)
      .filter((f) => f.endsWith('-history.json'))
      .sort(),
  );
});
for (const [file, workflowId] of Object.entries(recorded)) {
  test(`replay: the recorded ${file} still replays against the current workflow code`, async () => {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(fixtures, file), 'utf8')));
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../workflows') }, history, workflowId);
  });
}
