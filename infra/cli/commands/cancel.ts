import type { Argv, CommandModule } from 'yargs';
import { checkRunId } from '../../../src/runs/ids';
import { connectTemporal } from '../../clients';
import { findRun } from '../runs';
import { configFrom, print, printJson, type GlobalArgs } from '../context';

export const cancelCommand: CommandModule<GlobalArgs, GlobalArgs & { runId: string }> = {
  command: 'cancel <run-id>',
  describe: 'Cancel a run; its running activities write a final checkpoint first',
  builder: (y) =>
    y.positional('run-id', { type: 'string', demandOption: true }) as unknown as Argv<GlobalArgs & { runId: string }>,
  handler: async (argv) => {
    checkRunId(argv.runId);
    const { client, connection } = await connectTemporal(configFrom(argv));
    try {
      const { handle, status } = await findRun(client, argv.runId);
      if (status !== 'RUNNING') throw new Error(`run ${argv.runId} is ${status}, not running: nothing to cancel`);
      await handle.cancel();
      if (argv.json) printJson({ runId: argv.runId, cancelRequested: true });
      else print(`cancel requested for ${argv.runId}; running segments checkpoint and stop`);
    } finally {
      await connection.close();
    }
  },
};
