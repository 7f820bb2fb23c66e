import { WorkflowNotFoundError } from '@temporalio/client';
import type { Argv, CommandModule } from 'yargs';
import { RUN_WORKFLOWS_QUERY, runIdOfWorkflow, runWorkflowId } from '../../../src/runs/ids';
import { applyGc, planGc, type RunState } from '../../../src/storage/gc';
import { connectTemporal, makeObjectStore } from '../../clients';
import { configFrom, parseDuration, print, printJson, UsageError, type GlobalArgs } from '../context';
import { listRuns } from '../runs';

interface GcArgs extends GlobalArgs {
  olderThan: string;
  apply: boolean;
}

function size(bytes: number): string {
  return bytes >= 2 ** 30
    ? `${(bytes / 2 ** 30).toFixed(1)} GiB`
    : bytes >= 2 ** 20
      ? `${(bytes / 2 ** 20).toFixed(1)} MiB`
      : `${(bytes / 1024).toFixed(1)} KiB`;
}

export const gcCommand: CommandModule<GlobalArgs, GcArgs> = {
  command: 'gc',
  describe: 'Delete checkpoints and cache entries no kept run needs (a dry run unless --apply)',
  builder: (y) =>
    y
      .option('older-than', {
        type: 'string',
        default: '7d',
        describe: 'only runs closed, and cache entries written, longer ago than this (90s, 12h, 7d)',
      })
      .option('apply', {
        type: 'boolean',
        default: false,
        describe: 'delete (without it: print what would be deleted and its size)',
      }) as unknown as Argv<GcArgs>,
  handler: async (argv) => {
    const olderThanMs = parseDuration(argv.olderThan);
    if (!Number.isFinite(olderThanMs) || olderThanMs < 0)
      throw new UsageError(`--older-than ${argv.olderThan}: give a duration such as 90s, 12h or 7d`);
    const config = configFrom(argv);
    const store = makeObjectStore(config);
    const { client, connection } = await connectTemporal(config);
    const runStates = async (query: string): Promise<Map<string, RunState>> => {
      const out = new Map<string, RunState>();
      for await (const w of listRuns(client, query)) {
        const id = runIdOfWorkflow(w.workflowId);
        // A resumed run has several executions under its id: running if any is, else its newest close.
        const prev = out.get(id);
        const closed = [prev?.closed, w.closeTime].filter((d): d is Date => d !== undefined);
        out.set(id, {
          running: (prev?.running ?? false) || w.status === 'RUNNING',
          ...(closed.length ? { closed: new Date(Math.max(...closed.map((d) => d.getTime()))) } : {}),
        });
      }
      return out;
    };
    let deleted = 0;
    let plan;
    try {
      plan = await planGc(store, await runStates(RUN_WORKFLOWS_QUERY), olderThanMs);
      if (argv.apply) {
        deleted = await applyGc(store, plan, {
          // Describe reads the run's newest execution directly (visibility may lag a fresh start).
          run: async (runId) => {
            try {
              const d = await client.workflow.getHandle(runWorkflowId(runId)).describe();
              return { running: d.status.name === 'RUNNING', ...(d.closeTime ? { closed: d.closeTime } : {}) };
            } catch (err) {
              if (err instanceof WorkflowNotFoundError) return undefined;
              throw err;
            }
          },
          anyRunning: async () => (await runStates(`${RUN_WORKFLOWS_QUERY} AND ExecutionStatus = "Running"`)).size > 0,
        });
      }
    } finally {
      await connection.close();
    }
    if (argv.json) {
      return printJson({
        applied: argv.apply,
        deleted,
        objects: plan.delete.length,
        bytes: plan.bytes,
        kept: plan.kept,
        running: plan.running,
        keys: plan.delete.map((o) => o.key),
      });
    }
    const byArea = new Map<string, { n: number; bytes: number }>();
    for (const o of plan.delete) {
      const area = o.key.split('/').slice(0, 2).join('/');
      const a = byArea.get(area) ?? { n: 0, bytes: 0 };
      a.n++;
      a.bytes += o.size;
      byArea.set(area, a);
    }
    for (const [area, a] of [...byArea].sort()) print(`  ${area}/: ${a.n} objects, ${size(a.bytes)}`);
    if (plan.running.length) print(`  cache kept: runs in flight (${plan.running.join(', ')})`);
    print(
      argv.apply
        ? `deleted ${deleted} objects, ${size(plan.bytes)}`
        : `would delete ${plan.delete.length} objects, ${size(plan.bytes)}; run again with --apply to delete them`,
    );
  },
};
