import type { Argv, CommandModule } from 'yargs';
import { checkRunId } from '../../../src/runs/ids';
import { connectTemporal, makeObjectStore } from '../../clients';
import { awaitResult, findRun, formatResult } from '../runs';
import { configFrom, print, printJson, type GlobalArgs } from '../context';

export const resultsCommand: CommandModule<GlobalArgs, GlobalArgs & { runId: string }> = {
  command: 'results <run-id>',
  describe: "Print a finished run's claims and artifacts",
  builder: (y) =>
    y.positional('run-id', { type: 'string', demandOption: true }) as unknown as Argv<GlobalArgs & { runId: string }>,
  handler: async (argv) => {
    checkRunId(argv.runId);
    const config = configFrom(argv);
    const { client, connection } = await connectTemporal(config);
    try {
      const { handle, status } = await findRun(client, argv.runId);
      if (status === 'RUNNING')
        throw new Error(`run ${argv.runId} is still running; \`repro status ${argv.runId}\` shows its progress`);
      const result = await awaitResult(handle, makeObjectStore(config));
      if (argv.json) printJson(result);
      else print(formatResult(result));
    } finally {
      await connection.close();
    }
  },
};
