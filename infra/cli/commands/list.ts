import type { CommandModule } from 'yargs';
import { connectTemporal } from '../../clients';
import { configFrom, print, printJson, type GlobalArgs } from '../context';

interface ListArgs extends GlobalArgs {
  limit: number;
}

export const listCommand: CommandModule<GlobalArgs, ListArgs> = {
  command: 'list',
  describe: 'List runs, newest first',
  builder: (y) => y.option('limit', { type: 'number', default: 20, describe: 'at most this many runs' }),
  handler: async (argv) => {
    const { client, connection } = await connectTemporal(configFrom(argv));
    try {
      const runs: Array<Record<string, unknown>> = [];
      for await (const w of client.workflow.list()) {
        if (!w.workflowId.startsWith('run/') || w.workflowId.indexOf('/', 4) !== -1) continue;
        runs.push({ runId: w.workflowId.slice(4), experiment: w.memo?.experiment, preset: w.memo?.preset, status: w.status.name, startTime: w.startTime.toISOString(), closeTime: w.closeTime?.toISOString() });
        if (runs.length >= argv.limit) break;
      }
      if (argv.json) return printJson(runs);
      if (!runs.length) return print('no runs yet; start one with `repro run fig7`');
      for (const r of runs) print(`${r.runId}  ${String(r.status).padEnd(10)} ${r.experiment}  ${r.startTime}`);
    } finally {
      await connection.close();
    }
  },
};
