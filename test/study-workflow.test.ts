/** Studies on the real Temporal dev server and S3 server: fig2b and fig2cd end to end, cached re-runs, the report. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { makeObjectStore } from '../infra/clients';
import { awaitResult, runProgress, startRun } from '../infra/cli/runs';
import { planRun } from '../src/experiments/registry';
import { runStudyLocally } from '../src/experiments/run-locally';
import type { RunResult } from '../src/results/run-result';
import { layout } from '../src/storage/layout';
import { inProcessWorkers } from './in-process-workers';
import { testConfig, uniqueQueues } from './helpers';

Runtime.install({ logger: new DefaultLogger('WARN') });
const config = testConfig(uniqueQueues());
const store = makeObjectStore(config);
let env: TestWorkflowEnvironment;
let stop: () => Promise<void>;

before(async () => {
  ({ env, stop } = await inProcessWorkers(config, store));
});
after(async () => {
  await stop();
});

const run = async (
  experiment: string,
  sets: string[],
  noCache = false,
): Promise<RunResult & { summary: { time: { computeSeconds: number } } }> => {
  const plan = planRun(experiment, 'small', sets);
  const handle = await startRun(
    env.client,
    config,
    plan.experiment,
    'small',
    plan.params,
    3,
    `study-${randomUUID()}`,
    noCache,
  );
  return (await awaitResult(handle, store)) as never;
};

test(
  'fig2b as a durable study: claims equal an in-process run, ' +
    'the report holds the claims table and an SVG figure, a re-run is all cache',
  async () => {
    const sets = ['repeats=12'];
    const first = await run('fig2b', sets);
    const local = await runStudyLocally('fig2b', planRun('fig2b', 'small', sets).params, 3);
    assert.deepEqual(first.claims, local.analysis.claims, 'the durable runtime computes what the program computes');
    assert.deepEqual(first.backends, ['float64-js']);
    assert.deepEqual(first.substitutions, []);
    const html = Buffer.from(await store.get(layout.artifact(first.runId, 'report.html'))).toString();
    assert.match(html, /<table id="claims">[\s\S]*trace-decrease-slope[\s\S]*proportional-to-eta-squared/);
    assert.match(html, /<figure id="figure-fig2b-trace-vs-eta2" class="plot"><svg[\s\S]*<\/svg>/);
    assert.doesNotMatch(html, /<script/i, 'no scripts in the report');
    const svg = Buffer.from(await store.get(layout.artifact(first.runId, 'fig2b-trace-vs-eta2.svg'))).toString();
    assert.match(svg, /^<svg[\s\S]*<\/svg>$/);
    const again = await run('fig2b', sets);
    assert.deepEqual(again.claims, first.claims);
    assert.equal(again.summary.time.computeSeconds, 0, 'every unit came from the cache');
    const fresh = await run('fig2b', sets, true);
    assert.ok(fresh.summary.time.computeSeconds > 0, '--no-cache recomputes');
    assert.deepEqual(fresh.claims, first.claims);
  },
);

test('fig2cd as a durable study reports per-unit progress and its four claims', async () => {
  const plan = planRun('fig2cd', 'small', ['repeats=40', 'steps=4000']);
  const handle = await startRun(
    env.client,
    config,
    plan.experiment,
    'small',
    plan.params,
    1,
    `study-${randomUUID()}`,
    true,
  );
  const { progress } = await runProgress(env.client, handle);
  const result = await awaitResult(handle, store);
  if (progress) assert.ok(progress['unit sgd'] && progress['unit isotropic'], JSON.stringify(progress));
  assert.deepEqual(
    result.claims.map((c) => c.id),
    ['sgd-noise-lowers-trace', 'isotropic-noise-lowers-logdet', 'sgd-logdet-direction', 'isotropic-trace-direction'],
  );
  assert.ok(
    result.claims.every((c) => c.verdict === 'pass'),
    JSON.stringify(result.claims.map((c) => [c.id, c.verdict, c.measured, c.interval])),
  );
});
