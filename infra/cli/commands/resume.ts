import { checkRunId, runIdOfWorkflow } from '../../../src/runs/ids';
import type { Argv, CommandModule } from 'yargs';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { RunInput } from '../../../workflows/run-input';
import { checkS3, connectTemporal } from '../../clients';
import { findRun, runStartOptions, withSearchAttributesHint } from '../runs';
import { configFrom, print, printJson, UsageError, type GlobalArgs } from '../context';

/**
 * `repro resume <run-id>`: start a failed, cancelled, terminated or timed-out run again under its
 * own id with its own input. Every stage is content-keyed and every track checkpointed, so it
 * picks up from the newest checkpoints and cached answers instead of starting over.
 */
type ResumeArgs = GlobalArgs & { runId: string };

export const resumeCommand: CommandModule<GlobalArgs, ResumeArgs> = {
  command: 'resume <run-id>',
  describe: 'Start a failed or cancelled run again from its checkpoints and caches',
  builder: (y) => y.positional('run-id', { type: 'string', demandOption: true }) as unknown as Argv<ResumeArgs>,
  handler: async (argv) => {
    checkRunId(argv.runId);
    const config = configFrom(argv);
    const { client, connection } = await connectTemporal(config);
    try {
      await checkS3(config);
      const { handle, status } = await findRun(client, argv.runId);
      const runId = runIdOfWorkflow(handle.workflowId);
      if (status === 'RUNNING') throw new UsageError(`run ${runId} is running: nothing to resume`);
      if (status === 'COMPLETED') {
        throw new UsageError(
          `run ${runId} completed: \`repro results ${runId}\` shows it ` + '(`repro run` starts a new one)',
        );
      }
      const history = await handle.fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      const payload = started?.input?.payloads?.[0];
      if (!started?.workflowType?.name || !payload) {
        throw new Error(`run ${runId}: its history has no start event to resume from`);
      }
      // Through the client's codec: an encrypted run's input is ciphertext in its history.
      const input = await decodeFromPayloadsAtIndex<RunInput>(client.options.loadedDataConverter, 0, [payload]);
      const d = await handle.describe();
      const name = started.workflowType.name;
      await withSearchAttributesHint(config, () =>
        client.workflow.start(name, {
          workflowId: handle.workflowId,
          taskQueue: started.taskQueue?.name ?? config.taskQueues.cpu,
          args: [input],
          memo: d.memo,
          ...runStartOptions(config, { ...input, runId: input.runId || runId }),
        }),
      );
      if (argv.json) printJson({ runId, resumed: true, previousStatus: status });
      else print(`resumed ${runId} (was ${status}); \`repro status ${runId}\` follows it`);
    } finally {
      await connection.close();
    }
  },
};
