import { Context } from '@temporalio/activity';
import type { PathParts } from '../../src/experiments/projected-path/parts';
import { layout } from '../../src/storage/layout';
import { tensorsToState } from '../../src/train/state-tensors';
import { rethrowAsFailure } from '../failures';
import type { Staged, StageKit, StageOptions } from './stage';
import type { StateRef } from './workspace';

/**
 * Replay SGD from a stored state to a later iteration (same batches, same noise),
 * checkpointing every `checkpointEvery` iterations.
 */
export function makeReplayState(kit: StageKit) {
  return async function replayState(
    input: {
      runId: string;
      seed: number;
      parts: PathParts;
      from: StateRef;
      toIteration: number;
      checkpointEvery: number;
      noCache: boolean;
    },
    opts: StageOptions = {},
  ): Promise<Staged<StateRef>> {
    const { parts } = input;
    const { behind } = opts;
    const inputs = { from: input.from.sha256, to: input.toIteration, seed: input.seed };
    return kit.stage<StateRef>(
      'replay',
      parts,
      inputs,
      input.noCache,
      async (key, sw) => {
        const trainer = await kit.ws.trainer(parts, input.seed);
        const progress = kit.progressRoot('replaying', key, input.runId, input.noCache);
        const wip = await kit.workInProgress(progress, kit.skipped(input.runId, 'replay'), input.toIteration);
        const saved = wip.saved;
        let s = saved ? tensorsToState(saved.tensors) : await kit.ws.loadState(input.from);
        const every = input.checkpointEvery;
        while (s.step < input.toIteration) {
          const target = every
            ? Math.min(input.toIteration, (Math.floor(s.step / every) + 1) * every)
            : input.toIteration;
          const from = s;
          s = await sw.time(() =>
            trainer
              .run(from, target, {
                yieldEvery: 1,
                onStep: (step) => kit.heartbeat({ stage: 'replay', step }),
                shouldStop: () => kit.cancelled(),
              })
              .catch(rethrowAsFailure),
          );
          if (kit.cancelled()) throw Context.current().cancellationSignal.reason;
          if (s.step < input.toIteration) {
            wip.written = true;
            await kit.ws.saveState(progress, s, { from: input.from, kind: 'replay in progress' });
            await kit.ws.checkpoints.prune(progress, s.step);
          }
        }
        const ref = await kit.ws.saveState(layout.cacheFolder('replays', key), s, { from: input.from }, behind);
        if (behind) behind.add(() => kit.clear(progress, wip.written));
        else await kit.clear(progress, wip.written);
        return ref;
      },
      behind,
    ) as Promise<Staged<StateRef>>;
  };
}
