import type { Argv, CommandModule } from 'yargs';
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
} from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Experiment } from '../../../src/experiments/experiment';
import type { Params } from '../../../src/experiments/params';
import { planRun } from '../../../src/experiments/registry';
import { checkScheduleId, runIdOfWorkflow, scheduledRunWorkflowId } from '../../../src/runs/ids';
import type { ReproConfig } from '../../../temporal.config';
import { checkS3, connectTemporal } from '../../clients';
import { runInput, runStartOptions, withSearchAttributesHint } from '../runs';
import { configFrom, intFlag, print, printJson, UsageError, type GlobalArgs, parseDuration } from '../context';
import { checkCron } from '../cron';

const OVERLAP = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
} as const;
type Overlap = keyof typeof OVERLAP;
const ACTIONS = ['create', 'list', 'describe', 'pause', 'unpause', 'trigger', 'backfill', 'delete'] as const;

interface ScheduleArgs extends GlobalArgs {
  action: (typeof ACTIONS)[number];
  target?: string;
  cron?: string;
  every?: string;
  preset: string;
  set: string[];
  seed: number;
  overlap: Overlap;
  id?: string;
  cache: boolean;
  allowLarge: boolean;
  note?: string;
  from?: string;
  to?: string;
}

/** An interval in the largest whole unit: 86400000 → '1d'. */
function duration(msValue: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (msValue % size === 0) return `${msValue / size}${unit}`;
  }
  return `${msValue}ms`;
}

/** A schedule as the CLI shows it: what it runs, when, and what it did lately. */
function view(d: ScheduleDescription) {
  const memo = (d.memo ?? {}) as { experiment?: string; preset?: string; seed?: number; cron?: string };
  return {
    scheduleId: d.scheduleId,
    experiment: memo.experiment,
    preset: memo.preset,
    seed: memo.seed,
    // The server keeps a cron expression as calendars: the memo keeps it as written.
    cron: memo.cron ? [memo.cron] : [],
    every: (d.spec.intervals ?? []).map((i) => duration(msToNumber(i.every))),
    overlap: d.policies.overlap,
    paused: d.state.paused,
    note: d.state.note,
    actionsTaken: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    running: d.info.runningActions.map((a) => runIdOfWorkflow(a.workflow.workflowId)),
    recent: d.info.recentActions.map((a) => ({
      at: a.takenAt.toISOString(),
      runId: runIdOfWorkflow(a.action.workflow.workflowId),
    })),
    next: d.info.nextActionTimes.map((t) => t.toISOString()),
  };
}

function parseDate(flag: string, v: string | undefined): Date {
  // Date() also reads '1' or 'May' as some time: only a date-first (ISO 8601) time is taken.
  const d = v === undefined || !/^\d{4}-\d{2}-\d{2}/.test(v) ? undefined : new Date(v);
  if (!d || Number.isNaN(d.getTime())) {
    throw new UsageError(`--${flag} ${v ?? ''}: give a time such as 2026-11-27T00:00:00Z`);
  }
  return d;
}

/** What `schedule create` starts, checked before anything connects. */
interface CreatePlan {
  id: string;
  experiment: Experiment;
  params: Params;
  every?: number;
}

function checkCreate(argv: ScheduleArgs): CreatePlan {
  if (!argv.target) throw new UsageError('schedule create needs an experiment: repro schedule create fig7 --every 1d');
  if ((argv.cron === undefined) === (argv.every === undefined)) {
    throw new UsageError('schedule create needs exactly one of --cron EXPR and --every DURATION');
  }
  const every = argv.every === undefined ? undefined : parseDuration(argv.every);
  if (every !== undefined && !(Number.isFinite(every) && every >= 1000)) {
    throw new UsageError(`--every ${argv.every}: give a duration of at least 1s such as 30m, 6h or 1d`);
  }
  if (argv.cron !== undefined) checkCron(argv.cron);
  intFlag('seed', argv.seed, 0);
  const { experiment, params } = planRun(argv.target, argv.preset, argv.set, { allowLarge: argv.allowLarge });
  const id = checkScheduleId(
    argv.id ?? `${argv.target}-${argv.preset}`,
    argv.id === undefined ? 'schedule id' : '--id',
  );
  return { id, experiment, params, ...(every !== undefined ? { every } : {}) };
}

/** The flags that only some actions take; given to another, they are a mistake, not ignored. */
const ONLY: Array<[keyof ScheduleArgs, string, readonly string[]]> = [
  ['cron', '--cron', ['create']],
  ['every', '--every', ['create']],
  ['id', '--id', ['create']],
  ['note', '--note', ['pause', 'unpause']],
  ['from', '--from', ['backfill']],
  ['to', '--to', ['backfill']],
];

/** Every argument of every action, checked before anything connects. */
function checkArgs(argv: ScheduleArgs): { create?: CreatePlan; range?: { start: Date; end: Date } } {
  for (const [key, flag, actions] of ONLY) {
    if (argv[key] !== undefined && !actions.includes(argv.action))
      throw new UsageError(`${flag} applies to schedule ${actions.join(' and ')}, not to schedule ${argv.action}`);
  }
  if (argv.set.length && argv.action !== 'create')
    throw new UsageError(`--set applies to schedule create, not to schedule ${argv.action}`);
  if (argv.action === 'create') return { create: checkCreate(argv) };
  if (argv.action === 'list') {
    if (argv.target !== undefined)
      throw new UsageError(
        `schedule list takes no argument ('${argv.target}'); \`repro schedule describe ID\` shows one`,
      );
    return {};
  }
  if (!argv.target) {
    throw new UsageError(`schedule ${argv.action} needs a schedule id; \`repro schedule list\` shows them`);
  }
  checkScheduleId(argv.target);
  if (argv.action !== 'backfill') return {};
  const range = { start: parseDate('from', argv.from), end: parseDate('to', argv.to) };
  if (range.start >= range.end)
    throw new UsageError(`--from ${argv.from} is not before --to ${argv.to}: backfill takes the runs between them`);
  return { range };
}

async function create(client: Client, argv: ScheduleArgs, plan: CreatePlan, config: ReproConfig): Promise<void> {
  const { id, experiment, params, every } = plan;
  await checkS3(config);
  const input = runInput(config, experiment, argv.preset, params, argv.seed, '', !argv.cache);
  const handle = await withSearchAttributesHint(config, () =>
    client.schedule.create({
      scheduleId: id,
      spec: every !== undefined ? { intervals: [{ every }] } : { cronExpressions: [argv.cron!] },
      action: {
        type: 'startWorkflow',
        workflowType: experiment.workflowType,
        workflowId: scheduledRunWorkflowId(id),
        taskQueue: config.taskQueues.cpu,
        args: [input],
        memo: { experiment: experiment.name, preset: argv.preset, seed: argv.seed, schedule: id },
        ...runStartOptions(config, input),
      },
      policies: { overlap: OVERLAP[argv.overlap] },
      memo: {
        experiment: experiment.name,
        preset: argv.preset,
        seed: argv.seed,
        ...(argv.cron !== undefined ? { cron: argv.cron } : {}),
      },
    }),
  );
  const d = view(await handle.describe());
  if (argv.json) printJson(d);
  else {
    const when = argv.cron !== undefined ? `cron '${argv.cron}'` : `every ${argv.every}`;
    print(`schedule ${id}: ${experiment.name} (${argv.preset}) ${when}; next run ${d.next[0] ?? 'none'}`);
  }
}

export const scheduleCommand: CommandModule<GlobalArgs, ScheduleArgs> = {
  command: 'schedule <action> [target]',
  describe:
    'Re-run experiments on a schedule (Temporal Schedules): ' +
    'create, list, describe, pause, unpause, trigger, backfill, delete',
  builder: (y) =>
    y
      .positional('action', { type: 'string', choices: ACTIONS })
      .positional('target', { type: 'string', describe: 'the experiment (create) or the schedule id (the others)' })
      .option('cron', { type: 'string', describe: "create: a cron expression, e.g. '0 3 * * *' (UTC)" })
      .option('every', { type: 'string', describe: 'create: an interval, e.g. 30m, 6h, 1d' })
      .option('preset', { type: 'string', default: 'default', describe: 'create: preset of the experiment' })
      .option('set', { type: 'string', array: true, default: [], describe: 'create: --set key=value (repeatable)' })
      .option('seed', { type: 'number', default: 1, describe: 'create: seed of every run' })
      .option('overlap', {
        type: 'string',
        choices: Object.keys(OVERLAP),
        default: 'skip',
        describe: 'create: what to do when a run is due while the last one still runs',
      })
      .option('id', { type: 'string', describe: 'create: schedule id (default: <experiment>-<preset>)' })
      .option('cache', {
        type: 'boolean',
        default: true,
        describe: 'create: reuse cached stages (--no-cache recomputes in every run)',
      })
      .option('allow-large', {
        type: 'boolean',
        default: false,
        describe: "create: accept --set values above a parameter's usual bound",
      })
      .option('note', { type: 'string', describe: 'pause/unpause: why' })
      .option('from', { type: 'string', describe: 'backfill: start time' })
      .option('to', { type: 'string', describe: 'backfill: end time' }) as unknown as Argv<ScheduleArgs>,
  handler: async (argv) => {
    const plan = checkArgs(argv);
    const config = configFrom(argv);
    const { client, connection } = await connectTemporal(config);
    try {
      if (plan.create) return await create(client, argv, plan.create, config);
      if (argv.action === 'list') {
        const rows = [];
        for await (const s of client.schedule.list()) {
          rows.push(view(await client.schedule.getHandle(s.scheduleId).describe()));
        }
        if (argv.json) return printJson(rows);
        if (!rows.length) return print('no schedules; create one with `repro schedule create fig7 --every 1d`');
        for (const r of rows) {
          const when = r.cron.length ? `cron '${r.cron.join("', '")}'` : `every ${r.every.join(', ')}`;
          const state = r.paused ? 'paused ' : 'active ';
          print(`${r.scheduleId}  ${state} ${r.experiment} (${r.preset})  ${when}  next ${r.next[0] ?? '-'}`);
        }
        return;
      }
      const handle = client.schedule.getHandle(argv.target!);
      try {
        switch (argv.action) {
          case 'describe':
            break;
          case 'pause':
            await handle.pause(argv.note);
            break;
          case 'unpause':
            await handle.unpause(argv.note);
            break;
          case 'trigger':
            await handle.trigger();
            break;
          case 'backfill':
            await handle.backfill(plan.range!);
            break;
          case 'delete':
            await handle.delete();
            if (argv.json) printJson({ scheduleId: argv.target, deleted: true });
            else print(`schedule ${argv.target} deleted (its runs are kept)`);
            return;
        }
        const d = view(await handle.describe());
        if (argv.json) printJson(d);
        else print(JSON.stringify(d, null, 2));
      } catch (err) {
        if (err instanceof ScheduleNotFoundError) {
          throw new UsageError(`no schedule '${argv.target}'; \`repro schedule list\` shows them`);
        }
        throw err;
      }
    } finally {
      await connection.close();
    }
  },
};
