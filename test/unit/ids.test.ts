import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkNewRunId, checkRunId, checkScheduleId, IdError, MAX_SCHEDULE_ID } from '../../src/runs/ids';

test('run ids a user chooses: letters, digits, . _ -, starting with a letter or digit, no .., at most 128', () => {
  for (const ok of ['fig7', 'fig7-20261127T030000-a1b2c3', 'a', 'A.b_c-9', 'x'.repeat(128)])
    assert.equal(checkNewRunId(ok), ok);
  for (const bad of ['', '..', 'a..b', '.hidden', '-x', '_x', 'a/b', 'a b', 'a:b', 'ü', 'a\nb', 'x'.repeat(129)])
    assert.throws(
      () => checkNewRunId(bad),
      (e: Error) => e instanceof IdError && /--id .*: a run id is 1 to 128 letters/.test(e.message),
      JSON.stringify(bad),
    );
});

test('run ids a user names: new ones, scheduled runs (with the time) and workflow ids `run/<id>`', () => {
  assert.equal(checkRunId('fig7-20261127T030000-a1b2c3'), 'fig7-20261127T030000-a1b2c3');
  assert.equal(checkRunId('sched-fig7-small-2026-11-27T03:00:00Z'), 'sched-fig7-small-2026-11-27T03:00:00Z');
  assert.equal(checkRunId('run/fig7-x'), 'fig7-x');
  for (const bad of ['', '..', 'run/..', 'run/a/b', '../etc', 'sched-../x-2026-11-27T03:00:00Z', 'a:b', 'a b'])
    assert.throws(() => checkRunId(bad), /is not one: run ids are 1 to 128 .*`repro list` shows the runs/, bad);
});

test('schedule ids leave room for the run ids their runs get', () => {
  const id = 's'.repeat(MAX_SCHEDULE_ID);
  assert.equal(checkScheduleId(id), id);
  assert.equal(checkRunId(`sched-${id}-2026-11-27T03:00:00Z`).length, 128);
  assert.throws(() => checkScheduleId(`${id}s`), /a schedule id is 1 to 101/);
  assert.throws(() => checkScheduleId('..', '--id'), /^IdError: --id '..': a schedule id/);
});
