import { Context } from '@temporalio/activity';
import type { PathParts } from '../../src/experiments/projected-path/parts';
import { evaluateLoss, projectToMinimum } from '../../src/landscape/landscape';
import { layout } from '../../src/storage/layout';
import { tensorsToState } from '../../src/train/state-tensors';
import { rethrowAsFailure } from '../failures';
import type { MaybePreempted, Minimum, StageKit, StageOptions } from './stage';
import type { StateRef } from './workspace';

/**
 * Project a stored SGD state to a minimum by full-batch GD (until the loss is below the
 * projection target), checkpointing every `projection.checkpointEvery` GD steps. On worker
 * shutdown it commits where it stands and answers `preempted` (no retry is spent).
 */
export function makeProjectState(kit: StageKit) {
  return async function projectState(
    input: {
      runId: string;
      parts: PathParts;
      state: StateRef;
      noCache: boolean;
    },
    opts: StageOptions = {},
  ): Promise<MaybePreempted<Minimum>> {
    const { parts } = input;
    const { behind } = opts;
    return kit.stage<Minimum>(
      'project',
      parts,
      { state: input.state.sha256 },
      input.noCache,
      async (key, sw) => {
        const { train, val } = await kit.ws.objectives(parts.objective);
        const progress = kit.progressRoot('projecting', key, input.runId, input.noCache);
        const wip = await kit.workInProgress(progress, kit.skipped(input.runId, 'project'));
        const saved = wip.saved;
        const start = saved ? tensorsToState(saved.tensors) : { ...(await kit.ws.loadState(input.state)), step: 0 };
        kit.deps.log({
          event: 'projection-resume',
          runId: input.runId,
          key,
          gdStep: start.step,
          attempt: Context.current().info.attempt,
        });
        const projected = await sw.time(() =>
          projectToMinimum(
            train,
            { theta: start.theta, velocity: start.velocity, steps: start.step },
            {
              sgd: parts.sgd,
              target: parts.projection.target,
              maxSteps: parts.projection.cap,
              checkpointEvery: parts.projection.checkpointEvery,
              shouldStop: () => {
                kit.heartbeat({ stage: 'project' });
                return kit.stopping();
              },
              onCheckpoint: async (s) => {
                wip.written = true;
                await kit.ws.saveState(
                  progress,
                  { step: s.steps, theta: s.theta, velocity: s.velocity },
                  { from: input.state, kind: 'projection in progress' },
                );
                await kit.ws.checkpoints.prune(progress, s.steps); // only the newest is ever resumed from
                kit.deps.log({ event: 'projection-checkpoint', runId: input.runId, key, gdStep: s.steps });
              },
            },
          ).catch(rethrowAsFailure),
        );
        if (projected.stopped) {
          if (!kit.deps.stopping.aborted) throw Context.current().cancellationSignal.reason;
          return { preempted: true };
        }
        const valLoss = await sw.time(() => evaluateLoss(val, projected.theta));
        const minimum = await kit.ws.saveState(
          layout.cacheFolder('minima', key),
          { step: input.state.iteration, theta: projected.theta, velocity: null },
          { from: input.state },
          behind,
        );
        // Once the minimum is committed, the GD checkpoints are no longer needed.
        if (behind) behind.add(() => kit.clear(progress, wip.written));
        else await kit.clear(progress, wip.written);
        return { minimum, trainLoss: projected.loss, valLoss, gdSteps: projected.steps, reached: projected.reached };
      },
      behind,
    );
  };
}
