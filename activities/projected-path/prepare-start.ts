import { Context } from '@temporalio/activity';
import { concatDatasets } from '../../src/data/cifar';
import type { PathParts } from '../../src/experiments/projected-path/parts';
import { evaluateLoss } from '../../src/landscape/landscape';
import { layout } from '../../src/storage/layout';
import { tensorsToState } from '../../src/train/state-tensors';
import { Trainer, type TrainState } from '../../src/train/trainer';
import { nonRetryable, rethrowAsFailure } from '../failures';
import type { Minimum, Staged, StageKit } from './stage';

/**
 * fig4bc's starting point, a minimum that generalizes badly: SGD on the clean samples and the
 * corrupt ones (shuffled labels) together for `badStart.epochs`, then full-batch GD on the
 * clean ones alone for `badStart.gdSteps`. The state comes back at iteration 0, without momentum:
 * SGD on the clean samples starts there. Checkpointed after an epoch (or 100 GD steps) once
 * {@link CHECKPOINT_AFTER_S} seconds have passed since the last checkpoint, and on a stop: a kill
 * costs at most that and one epoch. (Every epoch until 2026-12-07: at the small preset's 30 tiny
 * epochs, 35 commits and prunes per seed took longer than the numerics.)
 */
export const CHECKPOINT_AFTER_S = 30;

export function makePrepareStart(kit: StageKit) {
  return async function prepareStart(input: {
    runId: string;
    seed: number;
    parts: PathParts;
    noCache: boolean;
  }): Promise<Staged<Minimum>> {
    const { parts, seed } = input;
    const bad = parts.badStart;
    if (!bad) throw nonRetryable('prepareStart needs start=bad-minimum', 'ParamError');
    return kit.stage<Minimum>('start', parts, { seed }, input.noCache, async (key, sw) => {
      const { train: clean } = await kit.ws.datasets(parts.objective);
      const corrupt = await kit.ws.corruptSet(parts.objective, bad.corruptSamples);
      const model = kit.ws.model(parts.objective.model);
      const common = { model, loss: 'lsce' as const, smoothing: parts.objective.smoothing, seed, sgd: parts.sgd };
      const mixed = new Trainer({
        ...common,
        data: concatDatasets([clean, corrupt], `${clean.name}+corrupt`),
        batchSize: parts.sampling.batch,
        augment: parts.sampling.augment,
      });
      const gd = new Trainer({ ...common, data: clean, batchSize: clean.y.length });
      const sgdSteps = bad.epochs * mixed.stepsPerEpoch,
        total = sgdSteps + bad.gdSteps;
      const progress = kit.progressRoot('starting', key, input.runId, input.noCache);
      const saved = await kit.ws.checkpoints.loadLatest(progress, kit.skipped(input.runId, 'start'), total);
      let s: TrainState = saved ? tensorsToState(saved.tensors) : { step: 0, theta: model.init(seed), velocity: null };
      let lastCommit = Date.now();
      const hooks = {
        yieldEvery: 1,
        onStep: (step: number) => kit.heartbeat({ stage: 'start', step }),
        shouldStop: () => kit.stopping(),
      };
      while (s.step < total) {
        const from = s;
        if (s.step < sgdSteps) {
          s = await sw.time(() =>
            mixed
              .run(
                from,
                Math.min(sgdSteps, (Math.floor(from.step / mixed.stepsPerEpoch) + 1) * mixed.stepsPerEpoch),
                hooks,
              )
              .catch(rethrowAsFailure),
          );
        } else {
          // GD on the clean samples is a fresh optimizer: no momentum carried over from the mixed run.
          const local = {
            ...from,
            step: from.step - sgdSteps,
            velocity: from.step === sgdSteps ? null : from.velocity,
          };
          const done = await sw.time(() =>
            gd.run(local, Math.min(bad.gdSteps, local.step + 100), hooks).catch(rethrowAsFailure),
          );
          s = { ...done, step: done.step + sgdSteps };
        }
        const stopping = kit.stopping() && s.step < total; // done: the answer is written, not a checkpoint
        if (stopping || (s.step < total && Date.now() - lastCommit >= CHECKPOINT_AFTER_S * 1000)) {
          await kit.ws.saveState(progress, s, { kind: 'bad minimum in progress', seed });
          await kit.ws.checkpoints.prune(progress, s.step);
          lastCommit = Date.now();
        }
        if (stopping) {
          if (!kit.deps.stopping.aborted) throw Context.current().cancellationSignal.reason;
          // Not resumable as a half answer: the retry (or the next worker) goes on from the checkpoint.
          throw new Error('worker stopping: the bad minimum goes on from its checkpoint elsewhere');
        }
      }
      const { train, val } = await kit.ws.objectives(parts.objective);
      const [trainLoss, valLoss] = await sw.time(() =>
        Promise.all([evaluateLoss(train, s.theta), evaluateLoss(val, s.theta)]),
      );
      const minimum = await kit.ws.saveState(
        layout.cacheFolder('starts', key),
        { step: 0, theta: s.theta, velocity: null },
        { seed, kind: 'bad minimum' },
      );
      await kit.clear(progress);
      return { minimum, trainLoss, valLoss, gdSteps: bad.gdSteps, reached: true };
    }) as Promise<Staged<Minimum>>;
  };
}
