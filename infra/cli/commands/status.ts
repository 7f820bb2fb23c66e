import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Argv, CommandModule } from 'yargs';
import type { Progress } from '../../../workflows/progress';
import { checkRunId } from '../../../src/runs/ids';
import { connectTemporal } from '../../clients';
import { findRun, runProgress } from '../runs';
import { configFrom, print, printJson, type GlobalArgs } from '../context';
import { etasFromMarks } from '../eta';
import { etaOf, formatDuration, StatusBars } from '../progress-view';
import { workflowLink } from '../web-ui';

/** Live bars until the run closes (or Ctrl-C), then its final state. */
async function watch(
  client: Client,
  handle: WorkflowHandle,
  runId: string,
  startedAt: Date,
  webUi: string | undefined,
): Promise<void> {
  print(`${runId}: RUNNING${webUi ? `; ${webUi}` : ''}`);
  const bars = new StatusBars(startedAt);
  let status = 'RUNNING';
  try {
    while (status === 'RUNNING') {
      bars.update((await runProgress(client, handle)).progress);
      await new Promise((r) => setTimeout(r, 1000));
      status = (await handle.describe()).status.name;
    }
  } finally {
    bars.stop();
  }
  print(`${runId}: ${status}`);
}

interface StatusArgs extends GlobalArgs {
  runId: string;
  once: boolean;
}

export const statusCommand: CommandModule<GlobalArgs, StatusArgs> = {
  command: 'status <run-id>',
  describe: "Show a run's state, progress and pending activities (live bars on a terminal)",
  builder: (y) =>
    y
      .positional('run-id', { type: 'string', demandOption: true, describe: 'id printed by `repro run`' })
      .option('once', {
        type: 'boolean',
        default: false,
        describe: 'on a terminal: print one snapshot instead of live bars',
      }) as unknown as Argv<StatusArgs>,
  handler: async (argv) => {
    checkRunId(argv.runId);
    const config = configFrom(argv);
    const { client, connection } = await connectTemporal(config);
    try {
      const { handle, status } = await findRun(client, argv.runId);
      const d = await handle.describe();
      let progress: Progress | undefined;
      let problems: string[] = [];
      if (status === 'RUNNING') ({ progress, problems } = await runProgress(client, handle));
      const pending = (d.raw.pendingActivities ?? []).map((a) => ({
        activity: a.activityType?.name,
        attempt: a.attempt,
        state: a.state,
        heartbeat: a.heartbeatDetails?.payloads?.length
          ? JSON.parse(Buffer.from(a.heartbeatDetails.payloads[0]!.data!).toString())
          : undefined,
        lastFailure: a.lastFailure?.message || undefined,
      }));
      // Remaining seconds per part from the marks the snapshot carries (rates over a window).
      const etas = progress ? etasFromMarks(progress, Date.now()) : {};
      const out = {
        runId: argv.runId,
        status,
        experiment: d.memo?.experiment,
        preset: d.memo?.preset,
        startTime: d.startTime.toISOString(),
        closeTime: d.closeTime?.toISOString(),
        progress,
        etaSeconds: Object.fromEntries(
          Object.entries(etas).map(([k, v]) => [k, v === undefined ? null : Math.round(v)]),
        ),
        progressProblems: problems,
        pendingActivities: pending,
        // None for a cluster whose Web UI is not configured (temporal.webUi): a loopback link would mislead.
        webUi: workflowLink(config, handle.workflowId),
      };
      if (argv.json) return printJson(out);
      if (process.stdout.isTTY && !argv.once && status === 'RUNNING')
        return await watch(client, handle, out.runId, d.startTime, out.webUi);
      print(
        `${out.runId}: ${status} (${out.experiment}, preset ${out.preset}) ` +
          `started ${out.startTime}${out.closeTime ? `, closed ${out.closeTime}` : ''}`,
      );
      const elapsed = (Date.now() - d.startTime.getTime()) / 1000;
      if (progress)
        for (const [k, v] of Object.entries(progress)) {
          const left = etas[k];
          // A run from before parts carried marks: the part's average since the run began.
          const eta = v.step >= v.of ? 'done' : left !== undefined ? formatDuration(left) : etaOf(v, elapsed);
          print(`  ${k}: ${v.step} of ${v.of} (ETA ${eta})`);
        }
      for (const p of problems) print(`  progress unavailable (${p})`);
      for (const p of pending)
        print(
          `  pending ${p.activity} attempt ${p.attempt}` +
            `${p.heartbeat ? ` at step ${p.heartbeat.step}` : ''}` +
            `${p.lastFailure ? ` (last failure: ${p.lastFailure})` : ''}`,
        );
      if (out.webUi) print(`  ${out.webUi}`);
    } finally {
      await connection.close();
    }
  },
};
