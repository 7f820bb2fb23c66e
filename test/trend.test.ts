/**
 * A schedule's per-claim trend against the real stack: a schedule fires fig7 quick runs on a
 * worker process until two have finished; headless Chromium (Debian's, driven by playwright-core)
 * opens the newest run's report, which shows the trend over every run, and the index `repro
 * report --index` writes, which shows the schedule's trend and links to each run's report. The
 * index stored in S3 links only to objects the bucket has: every href, resolved against the
 * index's own key, is a key of the bucket's listing, and a copy of those objects opens and
 * navigates in Chromium as the bucket would serve them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeObjectStore } from '../infra/clients';
import type { RunResult } from '../src/results/run-result';
import { layout } from '../src/storage/layout';
import { confArgs, runCli, sleep, startWorker, testConfig, uniqueQueues, type WorkerProcess } from './helpers';

const CHROMIUM = process.env.REPRO_CHROMIUM ?? '/usr/bin/chromium';
const noChromium = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (set REPRO_CHROMIUM)`;

const conf = uniqueQueues();
const q = confArgs(conf);
const store = makeObjectStore(testConfig(conf));
const schedule = `trend-${randomUUID().slice(0, 8)}`;
let worker: WorkerProcess;
let runs: RunResult[];
let browser: Browser | undefined;

function describe(): { recent: Array<{ runId: string }>; running: string[] } {
  const d = runCli(['schedule', 'describe', schedule, '--json', ...q]);
  assert.equal(d.status, 0, d.stderr);
  return JSON.parse(d.stdout);
}

/** The finished runs of the schedule, oldest first. */
function finishedRuns(): RunResult[] {
  return describe()
    .recent.map((a) => runCli(['results', a.runId, '--json', ...q]))
    .filter((r) => r.status === 0)
    .map((r) => JSON.parse(r.stdout) as RunResult)
    .sort((a, b) => a.runId.localeCompare(b.runId));
}

before(async () => {
  worker = startWorker(conf);
  await worker.waitFor((e) => e.event === 'worker-ready');
  const created = runCli(['schedule', 'create', 'fig7', '--preset', 'quick', '--every', '3s', '--id', schedule, ...q]);
  assert.equal(created.status, 0, created.stderr);
  const deadline = Date.now() + 300_000;
  for (runs = finishedRuns(); runs.length < 2; runs = finishedRuns()) {
    if (Date.now() > deadline) throw new Error(`two finished runs of ${schedule}: ${runs.length} in 5 minutes`);
    await sleep(1000);
  }
  // No run may finish while the pages are read: stop the schedule, let a run in flight land.
  assert.equal(runCli(['schedule', 'pause', schedule, ...q]).status, 0);
  await sleep(1500);
  while (describe().running.length) await sleep(1000);
  runs = finishedRuns();
  assert.equal(runCli(['schedule', 'delete', schedule, ...q]).status, 0);
  if (!noChromium)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
});
after(async () => {
  await browser?.close();
  worker.child.kill('SIGTERM');
  await worker.exited;
});

/** A page that records console errors and every request that leaves the file system. */
async function openPage(): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  return { page, errors, requests };
}

/** A trend section shows `ids` (newest first), each claim's verdict, a drawn figure per claim with a point per run. */
async function assertTrend(page: Page, section: string, ids: readonly string[]): Promise<void> {
  const s = page.locator(section);
  assert.equal(await s.count(), 1, section);
  const rows = s.locator('table.trend-runs tbody tr');
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run'))), ids);
  const claims = runs.at(-1)!.claims;
  for (const [i, id] of ids.entries()) {
    const run = runs.find((r) => r.runId === id)!;
    for (const c of run.claims) {
      const cell = rows.nth(i).locator(`td[data-claim="${c.id}"]`);
      assert.equal(await cell.getAttribute('data-verdict'), c.verdict, `${id} ${c.id}`);
      assert.match(await cell.innerText(), new RegExp(`^${c.verdict}\\s`));
    }
  }
  const plots = s.locator('figure.plot svg');
  assert.equal(await plots.count(), claims.length, 'a figure per claim');
  for (let i = 0; i < claims.length; i++) {
    const box = await plots.nth(i).boundingBox();
    assert.ok(box && box.width > 200 && box.height > 150, `trend plot ${i} is drawn: ${JSON.stringify(box)}`);
    const points = await plots.nth(i).locator('[aria-roledescription="point"]').count();
    assert.equal(points, ids.length, `a point per run in ${claims[i]!.id}'s trend`);
    assert.equal(await plots.nth(i).locator('[aria-roledescription="errorbar"]').count(), ids.length);
  }
}

/** The schedule's runs, newest first. */
const newestFirst = (): string[] => runs.map((r) => r.runId).reverse();

test("the newest run's report shows the schedule's trend over every run", { skip: noChromium }, async () => {
  const [first, last] = [runs[0]!, runs.at(-1)!];
  assert.equal(last.schedule, schedule);
  const dir = mkdtempSync(path.join(tmpdir(), 'repro-trend-'));
  const file = path.join(dir, 'report.html');
  writeFileSync(file, await store.get(layout.artifact(last.runId, 'report.html')));
  const { page, errors, requests } = await openPage();
  await page.goto(`file://${file}`);
  assert.equal(await page.locator('h2#trend').innerText(), "Trend over the schedule's runs");
  await assertTrend(page, `section.trend[data-series="schedule:${schedule}"]`, newestFirst());
  assert.deepEqual(errors, [], 'no console errors');
  assert.deepEqual(requests, [], 'the page reads without network');
  await page.close();

  const firstReport = Buffer.from(await store.get(layout.artifact(first.runId, 'report.html'))).toString();
  assert.doesNotMatch(firstReport, /class="trend"/, 'the first run has no trend yet');
  assert.match(firstReport, /\(its first run\)/);
});

test('the index shows the trend and links each run to its report, on disk and in S3', async () => {
  const [first, last] = [runs[0]!, runs.at(-1)!];
  const dir = mkdtempSync(path.join(tmpdir(), 'repro-trend-index-'));
  const r = runCli(['report', '--index', '--out', dir, ...q]);
  assert.equal(r.status, 0, r.stderr);
  const local = r.stdout.trim();

  // The stored index: every href resolves, against the index's own key, to a key the bucket has.
  const keys = new Set(await store.list(''));
  const stored = Buffer.from(await store.get(layout.indexPage)).toString('utf8');
  const hrefs = [...stored.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
  const base = 'http://bucket.invalid/';
  const targets = hrefs.map((h) => decodeURIComponent(new URL(h, base + layout.indexPage).pathname.slice(1)));
  assert.ok(hrefs.length > 0);
  for (const [i, t] of targets.entries()) assert.ok(keys.has(t), `href ${hrefs[i]} names ${t}, not in the bucket`);
  for (const id of newestFirst())
    assert.ok(targets.includes(layout.artifact(id, 'report.html')), `the stored index links ${id}'s report`);

  if (!browser) {
    process.stdout.write(`# trend: browser checks skipped because ${noChromium}\n`);
    return;
  }
  const { page, errors, requests } = await openPage();
  await page.goto(`file://${local}`);
  await assertTrend(page, `section.trend[data-series="schedule:${schedule}"]`, newestFirst());
  await page.locator(`section.trend a`, { hasText: first.runId }).click();
  assert.equal(await page.locator('#claims').count(), 1, "a trend row links to the run's report");
  assert.match(await page.locator('h1 + p.meta').innerText(), new RegExp(first.runId));

  // The stored index and the reports it links, at their keys: as the bucket serves them.
  const mirror = mkdtempSync(path.join(tmpdir(), 'repro-trend-bucket-'));
  for (const key of [layout.indexPage, ...targets]) {
    mkdirSync(path.dirname(path.join(mirror, key)), { recursive: true });
    writeFileSync(path.join(mirror, key), await store.get(key));
  }
  await page.goto(`file://${path.join(mirror, layout.indexPage)}`);
  await assertTrend(page, `section.trend[data-series="schedule:${schedule}"]`, newestFirst());
  await page.locator('#runs a', { hasText: last.runId }).click();
  assert.equal(await page.locator('#claims').count(), 1, "the stored index's run link opens the report");
  assert.equal(await page.locator('section.trend').count(), 1, 'the report with its trend');
  assert.deepEqual(errors, [], 'no console errors');
  assert.deepEqual(requests, [], 'the pages read without network');
  await page.close();
});
