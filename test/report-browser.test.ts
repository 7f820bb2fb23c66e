/**
 * A generated report in a real browser: headless Chromium (Debian's, driven by playwright-core)
 * opens the HTML report of a fig2cd run and of the index, finds the claims table and every plot,
 * logs no console error, and a screenshot is not blank.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { chromium, type Browser } from 'playwright-core';
import { PNG } from 'pngjs';
import { createActivities } from '../activities';
import { codeVersion, makeObjectStore } from '../infra/clients';
import { downloadReport, writeReportIndex } from '../infra/cli/commands/report';
import { awaitResult, startRun } from '../infra/cli/runs';
import { planRun } from '../src/experiments/registry';
import { testConfig, uniqueQueues } from './helpers';

const CHROMIUM = process.env.REPRO_CHROMIUM ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM)
  ? undefined
  : `no Chromium at ${CHROMIUM} (install Debian's chromium, as .ci/run does, or set REPRO_CHROMIUM)`;
if (missing) process.stdout.write(`# report-browser: skipped because ${missing}\n`);

Runtime.install({ logger: new DefaultLogger('WARN') });
const config = testConfig(uniqueQueues());
const store = makeObjectStore(config);
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let browser: Browser;

before(async () => {
  if (missing) return;
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
      log: () => {},
      codeVersion: codeVersion(),
    }),
  });
  running = worker.run();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
after(async () => {
  if (missing) return;
  await browser.close();
  worker.shutdown();
  await running;
  await env.teardown();
});

test(
  'the HTML report of a run opens in Chromium: claims table, every figure, no console error, a non-blank page',
  { skip: missing },
  async () => {
    const plan = planRun('fig2cd', 'small', ['repeats=10']);
    const result = await awaitResult(
      await startRun(env.client, config, plan.experiment, 'small', plan.params, 1, `browser-${randomUUID()}`),
      store,
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'repro-report-'));
    const file = await downloadReport(store, result.runId, dir);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(`file://${file}`);
    const rows = await page.locator('#claims tbody tr').count();
    assert.equal(rows, result.claims.length, 'one row per claim');
    for (const c of result.claims)
      assert.equal(await page.locator(`#claims tr[data-verdict="${c.verdict}"]`, { hasText: c.id }).count(), 1, c.id);
    const plots = await page.locator('figure.plot svg').count();
    assert.equal(plots, 2, 'fig2c and fig2d');
    for (let i = 0; i < plots; i++) {
      const box = await page.locator('figure.plot svg').nth(i).boundingBox();
      assert.ok(box && box.width > 200 && box.height > 150, `plot ${i} is drawn: ${JSON.stringify(box)}`);
    }
    assert.deepEqual(errors, [], 'no console errors');
    assert.deepEqual(requests, [], 'the page reads without network');
    const png = PNG.sync.read(await page.screenshot({ fullPage: true }));
    const colours = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4 * 97)
      colours.add((png.data[i]! << 16) | (png.data[i + 1]! << 8) | png.data[i + 2]!);
    assert.ok(colours.size > 20, `the screenshot is not blank (${colours.size} colours sampled)`);

    const index = await writeReportIndex(store, dir);
    await page.goto(`file://${index.path}`);
    const link = page.locator('#runs a', { hasText: result.runId });
    assert.equal(await link.count(), 1, 'the index lists the run');
    await link.click();
    assert.equal(await page.locator('#claims').count(), 1, 'and links to its report');
    await page.close();
  },
);
