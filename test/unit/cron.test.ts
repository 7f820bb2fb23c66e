import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCron } from '../../infra/cli/cron';

test('cron expressions Temporal takes pass', () => {
  for (const ok of [
    '0 3 * * *',
    '*/15 * * * *',
    '0 0 1 JAN,jul *',
    '30 2 * * MON-FRI',
    '0 0 * * 0',
    '0 0 * * 7',
    '5,10,59 1-5/2 1-31 1-12 0-6',
    '  0 3 * * *  ',
  ])
    assert.doesNotThrow(() => checkCron(ok), ok);
});

test('a bad cron expression names its field and range', () => {
  for (const [bad, re] of [
    ['', /give five fields/],
    ['0 3 * *', /give five fields/],
    ['0 3 * * * *', /give five fields/],
    ['60 3 * * *', /minute '60' is not 0-59/],
    ['0 24 * * *', /hour '24' is not 0-23/],
    ['0 3 0 * *', /day-of-month '0' is not 1-31/],
    ['0 3 * 13 *', /month '13' is not 1-12/],
    ['0 3 * * 8', /day-of-week '8' is not 0-7/],
    ['0 3 * * FUN', /day-of-week 'FUN'/],
    ['5-1 * * * *', /minute '5-1'/],
    ['*/0 * * * *', /minute '\*\/0'/],
    ['1,,2 * * * *', /minute '1,,2'/],
    ['-1 * * * *', /minute '-1'/],
  ] as const)
    assert.throws(
      () => checkCron(bad),
      (e: Error) => e.name === 'UsageError' && re.test(e.message),
      bad,
    );
});
