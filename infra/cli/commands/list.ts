import type { Argv, CommandModule } from 'yargs';
import { findExperiment } from '../../../src/experiments/registry';
import { layout } from '../../../src/storage/layout';
import type { RunResult } from '../../../src/results/run-result';
import { ObjectNotFoundError } from '../../../src/storage/object-store';
import { connectTemporal, makeObjectStore } from '../../clients';
import { SA } from '../../../workflows/search-attributes';
import { configFrom, intFlag, print, printJson, type GlobalArgs } from '../context';
import { listRuns } from '../runs';

/** `--status` values and the visibility query's names for them. */
const STATUS = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
} as const;

interface ListArgs extends GlobalArgs {
  limit: number;
  status?: keyof typeof STATUS;
  experiment?: string;
  verdict?: 'pass' | 'fail' | 'inconclusive';
  query: boolean;
}

/** The visibility query for the filters: the Web UI's search box takes the same text. */
export function listQuery(f: {
  status?: keyof typeof STATUS;
  experiment?: string;
  verdict?: string;
}): string | undefined {
  const quote = (v: string): string => `"${v.replace(/["\\]/g, '\\$&')}"`;
  const parts = [
    ...(f.status ? [`ExecutionStatus = "${STATUS[f.status]}"`] : []),
    ...(f.experiment !== undefined ? [`${SA.experiment.name} = ${quote(f.experiment)}`] : []),
    ...(f.verdict ? [`${SA.verdict.name} = ${quote(f.verdict)}`] : []),
  ];
  return parts.length ? parts.join(' AND ') : undefined;
}

export const listCommand: CommandModule<GlobalArgs, ListArgs> = {
  command: 'list',
  describe: 'List runs, newest first',
  builder: (y) =>
    y
      .option('limit', { type: 'number', default: 20, describe: 'at most this many runs' })
      .option('status', {
        type: 'string',
        choices: Object.keys(STATUS),
        describe: 'only runs in this state (a visibility query)',
      })
      .option('experiment', {
        type: 'string',
        describe: 'only runs of this experiment (search attribute ReproExperiment)',
      })
      .option('verdict', {
        type: 'string',
        choices: ['pass', 'fail', 'inconclusive'],
        describe: 'only finished runs with this verdict (ReproVerdict)',
      })
      .option('query', {
        type: 'boolean',
        default: false,
        describe: 'print the visibility query (for the Web UI) and exit',
      }) as unknown as Argv<ListArgs>,
  handler: async (argv) => {
    // Checked before anything connects: a mistake is named even with the server down.
    intFlag('limit', argv.limit, 1);
    if (argv.experiment !== undefined) findExperiment(argv.experiment);
    if (argv.query) return print(listQuery(argv) ?? '');
    const config = configFrom(argv);
    const { client, connection } = await connectTemporal(config);
    const store = makeObjectStore(config);
    /** A scheduled run's regressions against the schedule's previous run, from its index entry. */
    const regressions = async (runId: string): Promise<string[] | undefined> => {
      try {
        return (JSON.parse(Buffer.from(await store.get(layout.indexEntry(runId))).toString('utf8')) as RunResult)
          .regressions;
      } catch (err) {
        if (err instanceof ObjectNotFoundError) return undefined;
        throw err;
      }
    };
    try {
      const runs: Array<Record<string, unknown>> = [];
      const query = listQuery(argv);
      for await (const w of listRuns(client, query)) {
        const schedule = w.memo?.schedule as string | undefined;
        runs.push({
          runId: w.workflowId.slice(4),
          experiment: w.attributes.get(SA.experiment) ?? w.memo?.experiment,
          preset: w.attributes.get(SA.preset) ?? w.memo?.preset,
          status: w.status,
          verdict: w.attributes.get(SA.verdict),
          stage: w.attributes.get(SA.stage),
          startTime: w.startTime?.toISOString(),
          closeTime: w.closeTime?.toISOString(),
          ...(schedule
            ? { schedule, regressions: w.status === 'COMPLETED' ? await regressions(w.workflowId.slice(4)) : undefined }
            : {}),
        });
        if (runs.length >= argv.limit) break;
      }
      if (argv.json) return printJson(runs);
      if (!runs.length) return print('no runs yet; start one with `repro run fig7`');
      for (const r of runs) {
        const regressed =
          Array.isArray(r.regressions) && r.regressions.length
            ? `  REGRESSION: ${(r.regressions as string[]).join(', ')}`
            : '';
        const state = r.verdict ? `${String(r.verdict)}` : r.stage ? `${String(r.stage)}` : '';
        print(
          `${r.runId}  ${String(r.status).padEnd(10)} ${state.padEnd(12)} ${r.experiment}  ` +
            `${r.startTime}${r.schedule ? `  schedule ${String(r.schedule)}` : ''}${regressed}`,
        );
      }
    } finally {
      await connection.close();
    }
  },
};
