import { setHandler, workflowInfo } from '@temporalio/workflow';
import { activityProxies } from './activity-options';
import type { Fig7Params, Variant } from '../src/experiments/fig7/toy';
import type { RunResult } from '../src/results/run-result';
import { runIdOf, type RunInput } from './run-input';
import { progressQuery } from './progress';
import { markDone, markStage, showProgress } from './run-status';

/** Steps reached per trajectory, for `repro status`. */

/**
 * fig7 (appendix A.6): run the GD and the noisy trajectory side by side, each as a chain of
 * segment activities that checkpoint to S3, then check the claims and write the report.
 */
export async function fig7Workflow(given: RunInput): Promise<RunResult> {
  const input = { ...given, runId: runIdOf(given, workflowInfo().workflowId) };
  const params = input.params as unknown as Fig7Params;
  const { cpu } = activityProxies(input);

  const progress: Record<string, { step: number; of: number }> = {};
  setHandler(progressQuery, () => progress);

  markStage('trajectories');
  const runTrajectory = async (variant: Variant): Promise<void> => {
    let step = 0;
    progress[variant] = { step, of: params.steps };
    showProgress(progress);
    while (step < params.steps) {
      // A preempted segment returns early; the loop schedules the rest, on any worker.
      const untilStep = Math.min(params.steps, (Math.floor(step / params.segmentSteps) + 1) * params.segmentSteps);
      const summary = `${variant} trajectory, steps ${step} → ${untilStep}`;
      const r = await activityProxies(input, summary).cpu.advanceToyTrajectory({
        runId: input.runId,
        variant,
        params,
        seed: input.seed,
        untilStep,
      });
      step = r.step;
      progress[variant] = { step, of: params.steps };
      showProgress(progress);
    }
  };
  await Promise.all((['gd', 'noisy'] as const).map(runTrajectory));
  markStage('summary');
  return markDone(
    await cpu.summarizeFig7({
      runId: input.runId,
      experiment: input.experiment,
      preset: input.preset,
      params,
      seed: input.seed,
    }),
  );
}
