/** The CLI as a user runs it: bad input fails in one line and starts nothing; the happy path. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { makeObjectStore } from '../infra/clients';
import { confArgs, runCli, startWorker, testConfig, uniqueQueues, type WorkerProcess } from './helpers';

const conf = uniqueQueues();
const q = confArgs(conf);

function assertOneLineError(
  r: { status: number | null; stdout: string; stderr: string },
  status: number,
  re: RegExp,
): void {
  assert.equal(r.status, status, `exit status (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, /^Error: /);
  assert.match(lines[0]!, re);
}

test('unknown experiment', () =>
  assertOneLineError(
    runCli(['run', 'fig99', ...q]),
    2,
    new RegExp(
      "unknown experiment 'fig99'; available: fig1, fig2a, fig2b, fig2cd, fig3, fig4a, fig4bc, " +
        'fig5, fig6, fig7, noise-topk, projected-path',
    ),
  ));
test('malformed --set', () =>
  assertOneLineError(runCli(['run', 'fig7', '--set', 'lr', ...q]), 2, /--set lr: expected key=value/));
test('unknown parameter', () =>
  assertOneLineError(runCli(['run', 'fig7', '--set', 'eta=0.1', ...q]), 2, /no parameter 'eta'; known: alpha, lr/));
test('wrong value types', () => {
  assertOneLineError(runCli(['run', 'fig7', '--set', 'steps=many', ...q]), 2, /steps of fig7 must be a finite number/);
  assertOneLineError(
    runCli(['run', 'fig7', '--set', 'theta0=0.1', ...q]),
    2,
    /theta0 of fig7 must be 2 comma-separated numbers/,
  );
  assertOneLineError(runCli(['run', 'fig7', '--seed', '-3', ...q]), 2, /--seed -3: must be a non-negative integer/);
});
test('unknown command and bad config are usage errors', () => {
  assertOneLineError(runCli(['frobnicate']), 2, /Unknown argument: frobnicate/);
  assertOneLineError(
    runCli(['run', 'fig7', '--conf', 'worker.concurency=2']),
    2,
    /unknown config key 'worker.concurency'/,
  );
  assertOneLineError(
    runCli(['list', '--conf', 'worker.concurrency=lots']),
    2,
    /'worker.concurrency' must be an integer/,
  );
});
test('unreachable Temporal', () => {
  assertOneLineError(
    runCli(['run', 'fig7', '--conf', 'temporal.address=127.0.0.1:1', ...q]),
    1,
    /cannot reach Temporal at 127.0.0.1:1 .*repro up/,
  );
});
test('unreachable S3 starts nothing', () => {
  const id = `cli-${randomUUID()}`;
  assertOneLineError(
    runCli(['run', 'fig7', '--id', id, '--conf', 's3.endpoint=http://127.0.0.1:1', ...q]),
    1,
    /cannot reach S3 at http:\/\/127.0.0.1:1/,
  );
  assertOneLineError(runCli(['status', id]), 1, new RegExp(`no run '${id}'`));
});
test('unknown run id', () => assertOneLineError(runCli(['results', 'nope-123']), 1, /no run 'nope-123'.*repro list/));

let worker: WorkerProcess;
before(async () => {
  worker = startWorker(conf);
  await worker.waitFor((e) => e.event === 'worker-ready');
});
after(async () => {
  worker.child.kill('SIGTERM');
  await worker.exited;
});

test('run --wait --json, then results, status and list agree', () => {
  const id = `cli-${randomUUID()}`;
  const r = runCli([
    'run',
    'fig7',
    '--preset',
    'quick',
    '--set',
    'alpha=2e-4',
    '--seed',
    '4',
    '--id',
    id,
    '--wait',
    '--json',
    ...q,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  for (const key of ['runId', 'experiment', 'preset', 'status', 'params', 'backends', 'claims', 'artifacts'])
    assert.ok(key in result, key);
  assert.equal(result.runId, id);
  assert.equal(result.params.alpha, 2e-4);
  assert.equal(result.status, 'completed');
  for (const c of result.claims)
    for (const k of ['id', 'kind', 'description', 'paper', 'predicted', 'measured', 'tolerance', 'verdict'])
      assert.ok(k in c, k);
  assert.deepEqual(
    result.claims.map((c: { verdict: string }) => c.verdict),
    ['pass', 'pass'],
  );

  assert.deepEqual(JSON.parse(runCli(['results', id, '--json']).stdout), result);
  const status = JSON.parse(runCli(['status', id, '--json']).stdout);
  assert.equal(status.status, 'COMPLETED');
  assert.equal(status.experiment, 'fig7');
  // The test stack is on loopback: the dev server's Web UI; a configured one (a cluster's) instead.
  const page = `/namespaces/${testConfig().temporal.namespace}/workflows/run%2F${id}`;
  assert.equal(status.webUi, `http://127.0.0.1:${testConfig().temporal.uiPort}${page}`);
  const ui = runCli(['status', id, '--conf', 'temporal.webUi=https://temporal.example.org/', '--once']);
  assert.equal(ui.status, 0, ui.stderr);
  assert.ok(ui.stdout.split('\n').includes(`  https://temporal.example.org${page}`), ui.stdout);
  const list = JSON.parse(runCli(['list', '--json', '--limit', '1000']).stdout);
  assert.ok(list.some((x: { runId: string; status: string }) => x.runId === id && x.status === 'COMPLETED'));
  const fig7Done = JSON.parse(
    runCli(['list', '--json', '--limit', '1000', '--status', 'completed', '--experiment', 'fig7']).stdout,
  );
  assert.ok(fig7Done.some((x: { runId: string }) => x.runId === id));
  assert.ok(
    fig7Done.every((x: { status: string; experiment: string }) => x.status === 'COMPLETED' && x.experiment === 'fig7'),
  );
  const running = JSON.parse(runCli(['list', '--json', '--limit', '1000', '--status', 'running']).stdout);
  assert.ok(!running.some((x: { runId: string }) => x.runId === id), 'a completed run is not listed as running');
  assertOneLineError(
    runCli(['list', '--status', 'sleeping']),
    2,
    /Invalid values: Argument: status, Given: "sleeping", Choices: "running"/,
  );
});

test('run --wait exits 3, as reproduce does, when a claim does not pass; 0 when all do (above)', () => {
  // 2,000 steps: too short a series for the error estimates, so both claims are inconclusive.
  const id = `cli-short-${randomUUID().slice(0, 8)}`;
  const r = runCli(['run', 'fig7', '--preset', 'quick', '--set', 'steps=2000', '--id', id, '--wait', '--json', ...q]);
  assert.equal(r.status, 3, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.status, 'completed');
  assert.ok(result.claims.length > 0 && result.claims.every((c: { verdict: string }) => c.verdict !== 'pass'));
});

test("an id names one run forever: a run under a finished run's id is refused, its result unchanged", async () => {
  const id = `cli-once-${randomUUID().slice(0, 8)}`;
  const first = runCli([
    'run',
    'fig7',
    '--preset',
    'quick',
    '--set',
    'alpha=3e-4',
    '--id',
    id,
    '--wait',
    '--json',
    ...q,
  ]);
  assert.equal(first.status, 0, first.stderr);
  const store = makeObjectStore(testConfig(conf));
  const before = Buffer.from(await store.get(`runs/${id}/result.json`));
  const index = Buffer.from(await store.get(`index/runs/${id}.json`));
  // Another alpha under the same id: refused by the server, before anything runs.
  const again = runCli(['run', 'fig7', '--preset', 'quick', '--set', 'alpha=1e-4', '--id', id, '--wait', ...q]);
  assertOneLineError(again, 2, new RegExp(`run id '${id}' is taken.*repro resume ${id}.*another --id`));
  assert.deepEqual(Buffer.from(await store.get(`runs/${id}/result.json`)), before, 'result.json byte for byte');
  assert.deepEqual(Buffer.from(await store.get(`index/runs/${id}.json`)), index, 'the index entry too');
});

test(
  'export copies the result, report, artifacts and workflow history into a new folder; ' + 'an existing one is refused',
  () => {
    const id = `cli-${randomUUID()}`;
    assert.equal(
      runCli(['run', 'fig7', '--preset', 'quick', '--set', 'alpha=3e-4', '--id', id, '--wait', '--json', ...q]).status,
      0,
    );
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'export-')), 'run');
    const r = runCli(['export', id, dir, '--json', ...q]);
    assert.equal(r.status, 0, r.stderr);
    const { files } = JSON.parse(r.stdout) as { files: string[] };
    for (const f of [
      'result.json',
      'artifacts/report.html',
      'artifacts/fig7-theta2.svg',
      `histories/${encodeURIComponent(`run/${id}`)}.json`,
    ])
      assert.ok(files.includes(f), `${f} in ${files}`);
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8')).runId, id);
    const history = JSON.parse(
      readFileSync(path.join(dir, 'histories', `${encodeURIComponent(`run/${id}`)}.json`), 'utf8'),
    );
    assert.equal(history.events[0].eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
    assert.equal(history.events.at(-1).eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    assertOneLineError(runCli(['export', id, dir, ...q]), 2, /exists already; name a new folder/);
    assert.ok(!existsSync(`${dir}.partial`));
  },
);

test('run without --wait prints the id; cancel stops it', async () => {
  // Past the bound of steps (1e9): a run long enough to cancel, allowed by its flag.
  const sets = ['--set', 'steps=2000000000', '--set', 'checkpointEvery=1000000000', '--allow-large'];
  const r = runCli(['run', 'fig7', ...sets, '--json', ...q]);
  assert.equal(r.status, 0, r.stderr);
  const { runId } = JSON.parse(r.stdout);
  assert.match(runId, /^fig7-\d{8}T\d{6}-[0-9a-f]{6}$/);
  await worker.waitFor((e) => e.event === 'resume' && e.runId === runId);
  // One status snapshot times the running unit by its own recent steps: its heartbeat carries them.
  let snapshot: {
    progress?: Record<string, { step: number; marks?: unknown[] }>;
    etaSeconds?: Record<string, number>;
  } = {};
  for (let i = 0; i < 60 && !Object.values(snapshot.etaSeconds ?? {}).some((v) => v > 0); i++) {
    await new Promise((res) => setTimeout(res, 250));
    snapshot = JSON.parse(runCli(['status', runId, '--json']).stdout);
  }
  const [part, eta] = Object.entries(snapshot.etaSeconds ?? {}).find(([, v]) => v > 0) ?? [];
  assert.ok(part && eta! > 0, `an ETA from the unit's marks: ${JSON.stringify(snapshot)}`);
  assert.ok((snapshot.progress![part]!.marks?.length ?? 0) >= 2, 'the unit carries its step changes');
  const running = runCli(['results', runId]);
  assertOneLineError(running, 1, /is still running; `repro status/);
  const c = runCli(['cancel', runId]);
  assert.equal(c.status, 0, c.stderr);
  await worker.waitFor((e) => e.event === 'cancelled' && e.runId === runId);
  const cancelled = async (): Promise<string> => {
    let status = '';
    for (let i = 0; i < 50 && status !== 'CANCELLED'; i++) {
      status = JSON.parse(runCli(['status', runId, '--json']).stdout).status;
      await new Promise((res) => setTimeout(res, 200));
    }
    return status;
  };
  assert.equal(await cancelled(), 'CANCELLED');
  // resume: the same run again, from the final checkpoints the cancel wrote
  const cancelledAt = worker.events.filter((e) => e.event === 'cancelled' && e.runId === runId);
  const resumed = runCli(['resume', runId, '--json', ...q]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.deepEqual(JSON.parse(resumed.stdout), { runId, resumed: true, previousStatus: 'CANCELLED' });
  const again = await worker.waitFor((e) => e.event === 'resume' && e.runId === runId && Number(e.step) > 0);
  assert.ok(
    cancelledAt.length > 0 && Number(again.step) > 0,
    'the resumed run starts from a checkpoint, not from step 0',
  );
  assertOneLineError(runCli(['resume', runId, ...q]), 2, /is running: nothing to resume/);
  assert.equal(runCli(['cancel', runId, ...q]).status, 0);
  // Closed before this file's worker stops: a run left in flight would keep `repro gc` in a later
  // file from collecting the cache (it keeps the cache while any run is in flight).
  assert.equal(await cancelled(), 'CANCELLED');
});

test('experiments --json lists fig7 with its parameters and defaults', () => {
  const list = JSON.parse(runCli(['experiments', '--json']).stdout);
  const fig7 = list.find((e: { name: string }) => e.name === 'fig7');
  assert.deepEqual(fig7.params.map((p: { name: string }) => p.name).slice(0, 5), [
    'alpha',
    'lr',
    'noise',
    'steps',
    'theta0',
  ]);
  assert.equal(fig7.params.find((p: { name: string }) => p.name === 'alpha').default, 1e-4);
});
