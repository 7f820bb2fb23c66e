/** Temporal Schedules through `repro schedule`, on the real dev server and S3 server, with a worker process. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { layout } from '../src/storage/layout';
import { writeRunArtifacts } from '../activities/run-artifacts';
import { makeObjectStore } from '../infra/clients';
import type { RunResult } from '../src/results/run-result';
import { confArgs, runCli, sleep, startWorker, testConfig, uniqueQueues, type WorkerProcess } from './helpers';

const conf = uniqueQueues();
const q = confArgs(conf);
const config = testConfig(conf);
const store = makeObjectStore(config);

function oneLineError(r: { status: number | null; stdout: string; stderr: string }, re: RegExp): void {
  assert.equal(r.status, 2, `exit status (stderr: ${r.stderr})`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, re);
}

const describe = (id: string) => {
  const r = runCli(['schedule', 'describe', id, '--json', ...q]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as {
    paused: boolean;
    actionsTaken: number;
    skippedOverlap: number;
    running: string[];
    recent: Array<{ runId: string }>;
    overlap: string;
    every: string[];
  };
};

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

/** The result of a finished run, or undefined while it runs. */
function finished(runId: string): RunResult | undefined {
  const r = runCli(['results', runId, '--json', ...q]);
  return r.status === 0 ? (JSON.parse(r.stdout) as RunResult) : undefined;
}

test('bad schedules are one-line usage errors and create nothing', () => {
  oneLineError(
    runCli(['schedule', 'create', 'fig2cd', '--every', '0s', ...q]),
    /--every 0s: give a duration of at least 1s/,
  );
  oneLineError(runCli(['schedule', 'create', 'fig2cd', '--every', 'often', ...q]), /--every often: give a duration/);
  oneLineError(
    runCli(['schedule', 'create', 'fig2cd', '--cron', 'nightly', ...q]),
    /--cron 'nightly': give five fields/,
  );
  oneLineError(runCli(['schedule', 'create', 'fig2cd', ...q]), /exactly one of --cron EXPR and --every DURATION/);
  oneLineError(runCli(['schedule', 'create', 'fig99', '--every', '1d', ...q]), /unknown experiment 'fig99'/);
  oneLineError(
    runCli(['schedule', 'pause', `nope-${randomUUID()}`, ...q]),
    /no schedule 'nope-.*'; `repro schedule list` shows them/,
  );
});

let worker: WorkerProcess;
before(async () => {
  worker = startWorker(conf);
  await worker.waitFor((e) => e.event === 'worker-ready');
});
after(async () => {
  worker.child.kill('SIGTERM');
  await worker.exited;
});

test('a schedule fires ordinary runs that name it; pause stops it, trigger runs once, delete removes it', async () => {
  const id = `fig2cd-${randomUUID().slice(0, 8)}`;
  const created = runCli([
    'schedule',
    'create',
    'fig2cd',
    '--preset',
    'small',
    '--set',
    'repeats=4',
    '--every',
    '3s',
    '--id',
    id,
    '--json',
    ...q,
  ]);
  assert.equal(created.status, 0, created.stderr);
  assert.deepEqual(JSON.parse(created.stdout).every, ['3s']);
  const [first, second] = await until('two finished scheduled runs', () => {
    const runs = describe(id)
      .recent.map((a) => finished(a.runId))
      .filter((r): r is RunResult => r !== undefined);
    return runs.length >= 2 ? runs.sort((a, b) => a.runId.localeCompare(b.runId)) : undefined;
  });
  for (const r of [first!, second!]) {
    assert.match(r.runId, new RegExp(`^sched-${id}-\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$`));
    assert.equal(r.schedule, id);
    assert.equal(r.experiment, 'fig2cd');
    assert.equal(r.claims.length, 4, 'an ordinary run: the same claims as `repro run`');
    const html = Buffer.from(await store.get(layout.artifact(r.runId, 'report.html'))).toString();
    assert.match(html, new RegExp(`id="schedule">Started by schedule <code>${id}</code>`));
  }
  assert.equal(first!.regressions, undefined, 'the first run has nothing to compare with');
  assert.deepEqual(second!.regressions, [], 'the same claims hold: no regression');
  const listed = JSON.parse(runCli(['list', '--json', '--limit', '100', ...q]).stdout) as Array<{
    runId: string;
    schedule?: string;
    regressions?: string[];
  }>;
  assert.deepEqual(listed.find((r) => r.runId === second!.runId)?.regressions, [], 'repro list reads the comparison');

  assert.equal(runCli(['schedule', 'pause', id, '--note', 'test', ...q]).status, 0);
  // Let an action already in flight land, then nothing more may start while paused.
  await sleep(1500);
  const paused = describe(id);
  assert.equal(paused.paused, true);
  await sleep(7000);
  assert.equal(describe(id).actionsTaken, paused.actionsTaken, 'a paused schedule starts nothing');
  assert.equal(runCli(['schedule', 'trigger', id, ...q]).status, 0);
  await until(
    'the triggered run',
    () => (describe(id).actionsTaken === paused.actionsTaken + 1 ? true : undefined),
    30_000,
  );
  assert.ok(
    JSON.parse(runCli(['schedule', 'list', '--json', ...q]).stdout).some(
      (s: { scheduleId: string }) => s.scheduleId === id,
    ),
  );
  assert.equal(runCli(['schedule', 'delete', id, ...q]).status, 0);
  oneLineError(runCli(['schedule', 'describe', id, ...q]), new RegExp(`no schedule '${id}'`));
});

test('overlap skip: while a run is still going, due runs are skipped, not stacked', async () => {
  const id = `fig7-${randomUUID().slice(0, 8)}`;
  const sets = ['--set', 'steps=2000000000', '--set', 'checkpointEvery=1000000000', '--allow-large'];
  assert.equal(
    runCli(['schedule', 'create', 'fig7', ...sets, '--every', '1s', '--overlap', 'skip', '--id', id, ...q]).status,
    0,
  );
  const d = await until(
    'skipped actions',
    () => {
      const x = describe(id);
      return x.skippedOverlap >= 2 ? x : undefined;
    },
    60_000,
  );
  assert.equal(d.overlap, 'SKIP');
  assert.equal(d.running.length, 1, 'one run at a time');
  assert.equal(runCli(['schedule', 'delete', id, ...q]).status, 0);
  assert.equal(runCli(['cancel', d.running[0]!, ...q]).status, 0);
});

test(
  'a scheduled run whose claim stops holding ' + "is marked a regression against the schedule's previous run",
  async () => {
    const schedule = `reg-${randomUUID().slice(0, 8)}`;
    const claim = (id: string, verdict: 'pass' | 'fail') => ({
      id,
      kind: 'sign',
      description: id,
      paper: '-',
      predicted: 0,
      measured: verdict === 'pass' ? -1 : 1,
      tolerance: 0,
      verdict,
    });
    const base = (runId: string, verdicts: Array<'pass' | 'fail'>) => ({
      runId,
      experiment: 'fig2cd',
      preset: 'small',
      status: 'completed' as const,
      params: {},
      seed: 1,
      backends: ['float64-js'],
      claims: verdicts.map((v, i) => claim(`c${i}`, v)) as RunResult['claims'],
      summary: {},
      codeVersion: 'test',
      finishedAt: new Date().toISOString(),
    });
    const deps = { store, config, stopping: new AbortController().signal, log: () => {}, codeVersion: 'test' };
    const firstRun = await writeRunArtifacts(
      deps as never,
      base(`sched-${schedule}-2026-11-27T00:00:01Z`, ['pass', 'pass', 'fail']),
      't',
      [],
    );
    const worse = await writeRunArtifacts(
      deps as never,
      base(`sched-${schedule}-2026-11-27T00:00:02Z`, ['pass', 'fail', 'fail']),
      't',
      [],
    );
    assert.equal(firstRun.regressions, undefined);
    assert.deepEqual(worse.regressions, ['c1'], 'c1 passed before and fails now; c2 failed both times');
    const html = Buffer.from(await store.get(layout.artifact(worse.runId, 'report.html'))).toString();
    assert.match(
      html,
      /regression<\/b>, claims that passed in the schedule's previous run and do not now: <code>c1<\/code>/,
    );
    const again = await writeRunArtifacts(
      deps as never,
      base(`sched-${schedule}-2026-11-27T00:00:03Z`, ['pass', 'pass', 'pass']),
      't',
      [],
    );
    assert.deepEqual(again.regressions, [], 'compared with the run just before it');
  },
);
