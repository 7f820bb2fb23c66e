import { ApplicationFailure, Context } from '@temporalio/activity';
import { publicConfig } from '../../temporal.config';
import type { PipelineParams } from '../../src/experiments/projected-path/definition';
import { DivergenceError } from '../../src/train/divergence';
import type { ActivityDeps } from '../deps';
import { tensorsToState, type PipelineWorkspace, type StateRef } from './workspace';

export interface TrainSeedInput {
  runId: string;
  seed: number;
  params: PipelineParams;
  untilEpoch: number;
}

export interface TrainSeedResult {
  epoch: number;
  stepsPerEpoch: number;
  trainSteps: number;
  resumedFrom: number;
  preempted: boolean;
  /** Committed states at every epoch boundary so far, epoch 0 (the initialization) included. */
  epochs: StateRef[];
}

export const trainRoot = (runId: string, seed: number): string => `runs/${runId}/seed-${seed}/train/`;

/**
 * Train one seed with SGD up to an epoch: resume from the newest valid checkpoint, commit one at
 * every epoch boundary (and every `checkpointEvery` iterations), heartbeat, and on worker
 * shutdown or cancellation commit where it stands first.
 */
export function makeTrainSeed(deps: ActivityDeps, ws: PipelineWorkspace) {
  return async function trainSeed(input: TrainSeedInput): Promise<TrainSeedResult> {
    const ctx = Context.current();
    const { runId, seed, params } = input;
    const root = trainRoot(runId, seed);
    const trainer = await ws.trainer(params, seed);
    const spe = trainer.stepsPerEpoch;
    const latest = await ws.checkpoints.loadLatest(root, (s) => deps.log({ event: 'checkpoint-skipped', runId, seed, ...s }));
    let state = latest ? tensorsToState(latest.tensors) : { step: 0, theta: ws.model(params).init(seed), velocity: null };
    const meta = { runId, seed, params, codeVersion: deps.codeVersion, config: publicConfig(deps.config), rng: { algorithm: 'philox4x32-10', seed } };
    if (!latest) await ws.saveState(root, state, meta);
    const resumedFrom = state.step;
    deps.log({ event: 'resume', runId, seed, step: resumedFrom, attempt: ctx.info.attempt });
    const until = input.untilEpoch * spe;
    let preempted = false;
    while (state.step < until) {
      const nextEpoch = (Math.floor(state.step / spe) + 1) * spe;
      const nextExtra = params.checkpointEvery ? (Math.floor(state.step / params.checkpointEvery) + 1) * params.checkpointEvery : Infinity;
      const target = Math.min(until, nextEpoch, nextExtra);
      let stop = false;
      try {
        state = await trainer.run(state, target, {
          yieldEvery: 1,
          onStep: (step, loss) => ctx.heartbeat({ step, loss }),
          shouldStop: () => (stop = deps.stopping.aborted || ctx.cancellationSignal.aborted),
        });
      } catch (err) {
        if (err instanceof DivergenceError) throw ApplicationFailure.nonRetryable(err.message, 'Divergence');
        throw err;
      }
      await ws.saveState(root, state, meta);
      deps.log({ event: 'checkpoint', runId, seed, step: state.step });
      if (stop) {
        if (ctx.cancellationSignal.aborted && !deps.stopping.aborted) throw ctx.cancellationSignal.reason;
        preempted = true;
        deps.log({ event: 'preempted', runId, seed, step: state.step });
        break;
      }
    }
    const committed = await ws.checkpoints.committedSteps(root);
    const epochs = committed
      .filter((c) => c.step % spe === 0)
      .sort((a, b) => a.step - b.step)
      .map((c) => ({ key: c.manifestKey, sha256: '', iteration: c.step }));
    for (const e of epochs) e.sha256 = JSON.parse(Buffer.from(await ws.store.get(e.key)).toString('utf8')).data.sha256;
    return { epoch: Math.floor(state.step / spe), stepsPerEpoch: spe, trainSteps: state.step - resumedFrom, resumedFrom, preempted, epochs };
  };
}
