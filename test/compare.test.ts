/**
 * `repro compare` against the real stack: two fig7 runs that differ in one parameter, run by a
 * worker process through the CLI, compared as text, as JSON and as an HTML page that headless
 * Chromium (Debian's, driven by playwright-core) opens: both runs' claims side by side and the
 * figure with both runs overlaid. A missing run, or runs of two experiments, is a one-line usage error.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { makeObjectStore } from '../infra/clients';
import { layout } from '../src/storage/layout';
import { confArgs, runCli, startWorker, testConfig, uniqueQueues, type WorkerProcess } from './helpers';

const CHROMIUM = process.env.REPRO_CHROMIUM ?? '/usr/bin/chromium';
const noChromium = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (set REPRO_CHROMIUM)`;

const conf = uniqueQueues();
const q = confArgs(conf);
const idA = `cmp-a-${randomUUID().slice(0, 8)}`;
const idB = `cmp-b-${randomUUID().slice(0, 8)}`;
let worker: WorkerProcess;

function oneLineError(r: { status: number | null; stdout: string; stderr: string }, re: RegExp): void {
  assert.equal(r.status, 2, `exit status (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, /^Error: /);
  assert.match(lines[0]!, re);
}

before(async () => {
  worker = startWorker(conf);
  await worker.waitFor((e) => e.event === 'worker-ready');
  // A: the quick preset (both claims pass); B: the same but 2,000 steps, too short for a verdict.
  const a = runCli(['run', 'fig7', '--preset', 'quick', '--set', 'alpha=2e-4', '--id', idA, '--wait', ...q]);
  assert.equal(a.status, 0, a.stderr);
  const b = runCli([
    'run',
    'fig7',
    '--preset',
    'quick',
    '--set',
    'alpha=2e-4',
    '--set',
    'steps=2000',
    '--id',
    idB,
    '--wait',
    ...q,
  ]);
  assert.equal(b.status, 3, b.stderr);
});
after(async () => {
  worker.child.kill('SIGTERM');
  await worker.exited;
});

test('compare prints both runs, claims side by side, changed verdicts marked, the differing parameter', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'repro-compare-'));
  const r = runCli(['compare', idA, idB, '--out', dir, ...q]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`compare fig7: A ${idA} with B ${idB}`));
  assert.match(r.stdout, /^ {2}steps: 1000000 → 2000$/m);
  assert.doesNotMatch(r.stdout, /^ {2}alpha:/m, 'alpha is the same in both');
  assert.match(r.stdout, /^ {2}\* \S+: A \[pass\] .* \| B \[inconclusive\] .*verdict changed: pass → inconclusive/m);
  const report = /^report: (.*)$/m.exec(r.stdout)![1]!;
  assert.equal(path.dirname(report), dir);

  const json = runCli(['compare', idA, idB, '--out', dir, '--json', ...q]);
  assert.equal(json.status, 0, json.stderr);
  const c = JSON.parse(json.stdout);
  assert.equal(c.a.runId, idA);
  assert.equal(c.b.runId, idB);
  assert.deepEqual(c.differences, [{ key: 'steps', a: 1000000, b: 2000 }]);
  assert.equal(c.claims.length, 2);
  for (const k of c.claims) {
    assert.equal(k.a.verdict, 'pass');
    assert.equal(k.b.verdict, 'inconclusive');
    assert.equal(k.changed, true);
    assert.ok(Number.isFinite(k.a.measured) && 'interval' in k.a, JSON.stringify(k.a));
  }
  assert.equal(c.report, report);

  if (noChromium) {
    process.stdout.write(`# compare: browser check skipped because ${noChromium}\n`);
    return;
  }
  const html = readFileSync(report, 'utf8');
  assert.match(html, /<figure id="figure-fig7-theta2"/);
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`file://${report}`);
    assert.equal(await page.locator('#runs code.run-id', { hasText: idA }).count(), 1);
    assert.equal(await page.locator('#runs code.run-id', { hasText: idB }).count(), 1);
    const rows = page.locator('#claims tbody tr');
    assert.equal(await rows.count(), 2);
    for (let i = 0; i < 2; i++) {
      const cells = await rows.nth(i).locator('td').allInnerTexts();
      assert.equal(cells[2], 'pass', `A's verdict: ${cells.join(' | ')}`);
      assert.equal(cells[4], 'inconclusive', `B's verdict: ${cells.join(' | ')}`);
      assert.equal(cells[5], 'changed');
    }
    assert.match(await page.locator('#differences').innerText(), /steps\s+1000000\s+2000/);
    const plot = page.locator('figure.plot svg');
    assert.equal(await plot.count(), 1, 'the one figure fig7 has');
    const box = await plot.boundingBox();
    assert.ok(box && box.width > 200 && box.height > 150, `the plot is drawn: ${JSON.stringify(box)}`);
    const texts = await plot.locator('text').allTextContents();
    for (const id of [idA, idB]) assert.ok(texts.includes(id), `the legend names ${id}: ${texts.join(' | ')}`);
    // Marks of both runs: each run draws its two series' lines (GD and GD + noise), labelled with its id.
    const lines = await plot
      .locator('path[aria-roledescription="line mark"]')
      .evaluateAll((ps) => ps.map((p) => p.getAttribute('aria-label') ?? ''));
    for (const id of [idA, idB])
      assert.equal(lines.filter((l) => l.includes(`run id: ${id}`)).length, 2, `lines of ${id}: ${lines.join(' | ')}`);
    assert.deepEqual(errors, [], 'no console errors');
    await page.close();
  } finally {
    await browser.close();
  }
});

test('a run id that does not exist, or runs of two experiments, is a one-line usage error naming the run', async () => {
  const missing = `cmp-none-${randomUUID().slice(0, 8)}`;
  oneLineError(
    runCli(['compare', idA, missing, ...q]),
    new RegExp(`run B '${missing}' has no result: it does not exist`),
  );
  oneLineError(runCli(['compare', missing, idA, ...q]), new RegExp(`run A '${missing}' has no result`));
  // Another experiment's finished run, as its index entry says.
  const store = makeObjectStore(testConfig(conf));
  const a = JSON.parse(Buffer.from(await store.get(layout.indexEntry(idA))).toString('utf8'));
  const other = `cmp-fig5-${randomUUID().slice(0, 8)}`;
  const entry = { ...a, runId: other, experiment: 'fig5', artifacts: {} };
  await store.put(layout.indexEntry(other), Buffer.from(JSON.stringify(entry)), 'application/json');
  try {
    oneLineError(
      runCli(['compare', idA, other, ...q]),
      new RegExp(`run ${idA} is of fig7 and run ${other} of fig5: compare two runs of one experiment`),
    );
  } finally {
    // A run with an index entry and no report: the stack's index must not keep it for the tests
    // after this one (trend.test checks that every run the stored index links has its report).
    await store.delete(layout.indexEntry(other));
  }
});
