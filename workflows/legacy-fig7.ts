import { setHandler, workflowInfo } from '@temporalio/workflow';
import { activityProxies } from './activity-options';
import type { LegacyFig7Params } from '../activities/legacy-fig7';
import type { Variant } from '../src/experiments/fig7/toy';
import type { RunResult } from '../src/results/run-result';
import { runIdOf, type RunInput } from './run-input';
import { progressQuery } from './progress';
import { markDone, markStage, showProgress } from './run-status';

/**
 * fig7 as it ran before it became a study (now `studyWorkflow`): the GD and the noisy trajectory
 * side by side, each a chain of segment activities that checkpoint to S3, then the claims and the
 * report. Registered only so that histories started before the change replay and such runs
 * finish; new runs never start it. Remove it, with activities/legacy-fig7.ts and its replay
 * fixture, once no fig7Workflow run is open in any namespace you keep (`repro list --query`
 * with `WorkflowType = "fig7Workflow" AND ExecutionStatus = "Running"` finds them).
 */
export async function fig7Workflow(given: RunInput<LegacyFig7Params>): Promise<RunResult> {
  const input = { ...given, runId: runIdOf(given, workflowInfo().workflowId) };
  const { params } = input;
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
