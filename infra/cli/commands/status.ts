import type { Argv, CommandModule } from 'yargs';
import type { Progress } from '../../../workflows/progress';
import { connectTemporal } from '../../clients';
import { findRun, runProgress } from '../runs';
import { configFrom, print, printJson, type GlobalArgs } from '../context';

interface StatusArgs extends GlobalArgs {
  runId: string;
}

export const statusCommand: CommandModule<GlobalArgs, StatusArgs> = {
  command: 'status <run-id>',
  describe: 'Show a run\'s state, progress and pending activities',
  builder: (y) => y.positional('run-id', { type: 'string', demandOption: true, describe: 'id printed by `repro run`' }) as unknown as Argv<GlobalArgs & { runId: string }>,
  handler: async (argv) => {
    const config = configFrom(argv);
    const { client, connection } = await connectTemporal(config);
    try {
      const { handle, status } = await findRun(client, argv.runId);
      const d = await handle.describe();
      let progress: Progress | undefined;
      let problems: string[] = [];
      if (status === 'RUNNING') ({ progress, problems } = await runProgress(client, handle));
      const pending = (d.raw.pendingActivities ?? []).map((a) => ({
        activity: a.activityType?.name, attempt: a.attempt, state: a.state,
        heartbeat: a.heartbeatDetails?.payloads?.length ? JSON.parse(Buffer.from(a.heartbeatDetails.payloads[0]!.data!).toString()) : undefined,
        lastFailure: a.lastFailure?.message || undefined,
      }));
      const out = {
        runId: argv.runId, status, experiment: d.memo?.experiment, preset: d.memo?.preset,
        startTime: d.startTime.toISOString(), closeTime: d.closeTime?.toISOString(), progress, progressProblems: problems, pendingActivities: pending,
        webUi: `http://127.0.0.1:${config.temporal.uiPort}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(handle.workflowId)}`,
      };
      if (argv.json) return printJson(out);
      print(`${out.runId}: ${status} (${out.experiment}, preset ${out.preset}) started ${out.startTime}${out.closeTime ? `, closed ${out.closeTime}` : ''}`);
      if (progress) for (const [k, v] of Object.entries(progress)) print(`  ${k}: ${v.step} of ${v.of}`);
      for (const p of problems) print(`  progress unavailable (${p})`);
      for (const p of pending) print(`  pending ${p.activity} attempt ${p.attempt}${p.heartbeat ? ` at step ${p.heartbeat.step}` : ''}${p.lastFailure ? ` (last failure: ${p.lastFailure})` : ''}`);
      print(`  ${out.webUi}`);
    } finally {
      await connection.close();
    }
  },
};
