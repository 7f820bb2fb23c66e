import { setHandler, workflowInfo } from '@temporalio/workflow';
import type { UnitKey } from '../activities/study/unit-store';
import type { UnitSpec } from '../src/experiments/experiment';
import type { RunResult } from '../src/results/run-result';
import { activityProxies } from './activity-options';
import { untilDone } from './durable';
import { childrenQuery, markProgress, progressQuery, withMarks, type Progress } from './progress';
import { markBackend, markDone, markStage, showProgress } from './run-status';
import { runIdOf, type RunInput } from './run-input';

/** Units in flight at once: bounds fan-out and history. */
const WINDOW = 16;

/**
 * A study (toy models, MNIST studies, fig7): plan its units, run each phase's units side by
 * side, each to its end as one durable activity (checkpoints, heartbeats, resume on any worker;
 * a stopping worker hands the unit back without spending a retry), then check the claims and
 * write the report.
 */
export async function studyWorkflow(given: RunInput): Promise<RunResult> {
  const input = { ...given, runId: runIdOf(given, workflowInfo().workflowId) };
  const { runId, experiment, params, seed } = input;
  const queues = activityProxies(input);
  const started = Date.now();
  const noCache = input.noCache ?? false;
  markStage('planning');
  const units = await activityProxies(input, `plan ${experiment}`).cpu.planStudy({ experiment, params });
  const progress: Progress = Object.fromEntries(units.map((u) => [`unit ${u.id}`, { step: 0, of: u.steps }]));
  markProgress(progress);
  setHandler(progressQuery, () => withMarks(progress));
  setHandler(childrenQuery, () => []); // a study's units are activities, not child workflows
  const unitBackends: Record<string, string> = {};
  // Where each unit was computed: later phases and the summary read it there, whatever worker
  // (code version, backend) runs them; a unit that moved to another key was recomputed whole there.
  const unitKeys: Record<string, UnitKey> = {};
  let computeMs = 0;
  const phases = [...new Set(units.map((u) => u.phase))].sort((a, b) => a - b);
  for (const phase of phases) {
    markStage(`phase ${phase}`);
    const now = units.filter((u) => u.phase === phase);
    const upstream = units.filter((u) => u.phase < phase);
    let next = 0;
    const run = async (unit: UnitSpec): Promise<void> => {
      const ask = () => {
        const summary = `unit ${unit.id} from step ${progress[`unit ${unit.id}`]!.step} of ${unit.steps}`;
        const proxy = activityProxies(input, summary)[unit.queue];
        const upstreamKeys = Object.fromEntries(
          upstream.flatMap((u) => (unitKeys[u.id] ? [[u.id, unitKeys[u.id]!]] : [])),
        );
        return proxy.advanceUnit({ runId, experiment, params, seed, unit, upstream, upstreamKeys, noCache });
      };
      await untilDone(
        ask,
        (r) => r.done,
        (r) => {
          computeMs += r.computeMs;
          if (Object.keys(unitBackends).length === 0) markBackend(r.backend);
          unitBackends[unit.id] = r.backend;
          if (r.key) unitKeys[unit.id] = r.key;
          progress[`unit ${unit.id}`] = { step: r.step, of: unit.steps };
          showProgress(progress, `phase ${phase} of ${phases.length}`);
        },
      );
    };
    await Promise.all(
      Array.from({ length: Math.min(WINDOW, now.length) }, async () => {
        while (next < now.length) await run(now[next++]!);
      }),
    );
  }
  markStage('summary');
  return markDone(
    await queues.cpu.summarizeStudy({
      runId,
      experiment,
      preset: input.preset,
      params,
      seed,
      units,
      unitBackends,
      unitKeys,
      wallMs: Date.now() - started,
      computeMs,
      noCache,
    }),
  );
}
