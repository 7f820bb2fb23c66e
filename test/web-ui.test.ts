/**
 * What the Web UI shows of a run: custom search attributes set at start and updated by the
 * workflow (stage, verdict, backend), a static summary and details, activity summaries, current
 * details while it runs; `repro list --experiment --verdict` as visibility queries; and, in a
 * real browser (headless Chromium), the dev server's Web UI finds the run by a search attribute
 * and shows its summary.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { chromium } from 'playwright-core';
import { codeVersion, makeObjectStore } from '../infra/clients';
import { awaitResult, startRun } from '../infra/cli/runs';
import { planRun } from '../src/experiments/registry';
import { SA } from '../workflows/search-attributes';
import { runCli, testConfig, uniqueQueues } from './helpers';
import { inProcessWorkers } from './in-process-workers';

const CHROMIUM = process.env.REPRO_CHROMIUM ?? '/usr/bin/chromium';
const noBrowser = existsSync(CHROMIUM)
  ? undefined
  : `no Chromium at ${CHROMIUM} (install Debian's chromium, as .ci/run does, or set REPRO_CHROMIUM)`;

const config = testConfig(uniqueQueues());
const store = makeObjectStore(config);
let workers: Awaited<ReturnType<typeof inProcessWorkers>>;
let run: { runId: string; workflowId: string; executionRunId: string; verdict: string; summary: string };

before(async () => {
  workers = await inProcessWorkers(config, store);
});
after(async () => {
  await workers.stop();
});

async function eventually<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('a run carries search attributes, summaries and current details, and repro list queries them', async () => {
  const plan = planRun('fig7', 'default', []);
  const handle = await startRun(
    workers.env.client,
    config,
    plan.experiment,
    'default',
    plan.params,
    2,
    `ui-${randomUUID().slice(0, 8)}`,
  );
  const details = new Set<string>();
  const watching = (async () => {
    for (;;) {
      try {
        const m = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
        if (m.currentDetails) details.add(m.currentDetails);
      } catch {
        return; // closed
      }
      if ((await handle.describe()).status.name !== 'RUNNING') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const result = await awaitResult(handle, store);
  await watching;
  const verdicts = new Set(result.claims.map((c) => c.verdict));
  const verdict = verdicts.has('fail') ? 'fail' : verdicts.has('inconclusive') ? 'inconclusive' : 'pass';

  const d = await handle.describe();
  const sa = d.typedSearchAttributes;
  assert.equal(sa.get(SA.experiment), 'fig7');
  assert.equal(sa.get(SA.preset), 'default');
  assert.equal(sa.get(SA.seed), 2);
  assert.equal(sa.get(SA.codeVersion), codeVersion());
  assert.equal(sa.get(SA.stage), 'done', 'the workflow moved its stage to done');
  assert.equal(sa.get(SA.verdict), verdict, 'the verdict follows the claims');
  const summary = await d.staticSummary();
  assert.equal(summary, 'fig7 · preset default · seed 2');
  assert.match((await d.staticDetails()) ?? '', new RegExp(`runs/${result.runId}/artifacts/report\\.html`));
  assert.ok(
    [...details].some((t) => /^unit (gd|noisy): \d+\/\d+/m.test(t)),
    `current details while running: ${[...details].join(' | ')}`,
  );

  const history = await handle.fetchHistory();
  const activitySummaries = (history.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes && e.userMetadata?.summary)
    .map((e) => defaultPayloadConverter.fromPayload<string>(e.userMetadata!.summary!));
  assert.ok(activitySummaries.includes(`unit gd from step 0 of ${plan.params.steps}`), activitySummaries.join(' | '));

  // Visibility is eventually consistent: the CLI's queries find the run once it is indexed.
  const listed = (args: string[]): Promise<string[] | undefined> =>
    Promise.resolve().then(() => {
      const r = runCli(['list', '--json', '--limit', '200', ...args]);
      assert.equal(r.status, 0, r.stderr);
      const ids = (JSON.parse(r.stdout) as Array<{ runId: string }>).map((x) => x.runId);
      return ids.includes(result.runId) ? ids : undefined;
    });
  await eventually('repro list --experiment fig7 --verdict', () =>
    listed(['--experiment', 'fig7', '--verdict', verdict]),
  );
  const other = ['pass', 'fail', 'inconclusive'].find((v) => v !== verdict)!;
  const r = runCli(['list', '--json', '--limit', '200', '--experiment', 'fig7', '--verdict', other]);
  assert.ok(
    !(JSON.parse(r.stdout) as Array<{ runId: string }>).some((x) => x.runId === result.runId),
    `not listed under --verdict ${other}`,
  );
  const wrong = runCli(['list', '--json', '--experiment', 'fig1', '--status', 'completed']);
  assert.ok(
    !(JSON.parse(wrong.stdout) as Array<{ runId: string }>).some((x) => x.runId === result.runId),
    'not listed under another experiment',
  );
  run = { runId: result.runId, workflowId: handle.workflowId, executionRunId: d.runId, verdict, summary: summary! };
});

test(
  'the Web UI finds the run by a search attribute and shows its summary (headless Chromium)',
  { skip: noBrowser },
  async () => {
    assert.ok(run, 'the run of the previous test');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const base = `http://127.0.0.1:${config.temporal.uiPort}/namespaces/${config.temporal.namespace}`;
      const query = `ReproExperiment = "fig7" AND ReproVerdict = "${run.verdict}" AND WorkflowId = "${run.workflowId}"`;
      await page.goto(`${base}/workflows?query=${encodeURIComponent(query)}`);
      // The run's row links to it (the query box shows the id too, so the link is what counts).
      const rowLink = page.locator(`a[href*="${encodeURIComponent(run.workflowId)}"]`);
      await rowLink.first().waitFor({ timeout: 30_000 });
      // The query filters: under another verdict the list loads without the run.
      const other = ['pass', 'fail', 'inconclusive'].find((v) => v !== run.verdict)!;
      await page.goto(`${base}/workflows?query=${encodeURIComponent(query.replace(`"${run.verdict}"`, `"${other}"`))}`);
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(1000);
      assert.equal(await rowLink.count(), 0, `the UI lists the run under ReproVerdict = "${other}"`);
      await page.goto(`${base}/workflows/${encodeURIComponent(run.workflowId)}/${run.executionRunId}/history`);
      await page.getByText(run.summary).first().waitFor({ timeout: 30_000 });
      await page.close();
    } finally {
      await browser.close();
    }
  },
);

test('repro status draws live bars with ETAs on a terminal until the run ends', async () => {
  const plan = planRun('fig7', 'default', ['steps=30000000', 'checkpointEvery=5000000']);
  const handle = await startRun(
    workers.env.client,
    config,
    plan.experiment,
    'default',
    plan.params,
    3,
    `tty-${randomUUID().slice(0, 8)}`,
  );
  const runId = handle.workflowId.slice(4);
  await eventually('the run to start its trajectories', async () =>
    (await handle.describe()).status.name === 'RUNNING' ? true : undefined,
  );
  // `script` gives the CLI a pseudo-terminal, as a user's shell would.
  const cli = path.resolve(__dirname, '..', 'infra', 'cli', 'main.js');
  // Asynchronously: the run's worker is in this process.
  const r = await promisify(execFile)('script', ['-qec', `${process.execPath} ${cli} status ${runId}`, '/dev/null'], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  const screen = r.stdout.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g'), '');
  assert.match(screen, /gd\s+\|[█░]+\| \d+\/30000000 \| ETA /, 'a bar for the gd trajectory');
  assert.match(screen, /noisy\s+\|[█░]+\| \d+\/30000000 \| ETA /, 'and for the noisy one');
  assert.match(screen, new RegExp(`${runId}: COMPLETED`), 'it follows the run to its end');
  await handle.result();
});
