import { setImmediate as yieldToEventLoop } from 'timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { publicConfig } from '../temporal.config';
import { CheckpointStore } from '../src/checkpoint/checkpoint-store';
import type { Tensor } from '../src/checkpoint/safetensors';
import { advance, initialState, loss, type ToyState } from '../src/experiments/fig7/toy';
import { DivergenceError } from '../src/train/divergence';
import { keys, type ActivityDeps } from './deps';
import type { AdvanceToyTrajectoryInput, AdvanceToyTrajectoryResult } from './types';

/** Steps between yields to the event loop, so heartbeats and cancellation get through. */
const CHUNK = 10_000;

export function toTensors(s: ToyState): Record<string, Tensor> {
  const n = s.samples.step.length;
  return {
    theta: { dtype: 'F64', shape: [2], data: Float64Array.of(s.theta1, s.theta2) },
    step: { dtype: 'I64', shape: [1], data: Float64Array.of(s.step) },
    samples_step: { dtype: 'I64', shape: [n], data: Float64Array.from(s.samples.step) },
    samples_theta1: { dtype: 'F64', shape: [n], data: Float64Array.from(s.samples.theta1) },
    samples_theta2: { dtype: 'F64', shape: [n], data: Float64Array.from(s.samples.theta2) },
  };
}

export function fromTensors(t: Record<string, Tensor>): ToyState {
  const need = (name: string): Tensor['data'] => {
    const x = t[name];
    if (!x) throw new Error(`checkpoint lacks tensor '${name}'`);
    return x.data;
  };
  const theta = need('theta');
  return {
    step: need('step')[0]!,
    theta1: theta[0]!,
    theta2: theta[1]!,
    samples: {
      step: Array.from(need('samples_step')),
      theta1: Array.from(need('samples_theta1')),
      theta2: Array.from(need('samples_theta2')),
    },
  };
}

/**
 * Advance one fig7 trajectory to `untilStep`: resume from the latest valid checkpoint, commit a
 * checkpoint every `checkpointEvery` steps and at the end, heartbeat progress. On worker
 * shutdown it commits and returns `preempted` (no retry spent); on cancellation it commits
 * and rethrows the cancellation.
 */
export function makeAdvanceToyTrajectory(deps: ActivityDeps) {
  const checkpoints = new CheckpointStore(deps.store);
  return async function advanceToyTrajectory(input: AdvanceToyTrajectoryInput): Promise<AdvanceToyTrajectoryResult> {
    const ctx = Context.current();
    const { runId, variant, params, seed, untilStep } = input;
    const root = keys.checkpoints(runId, variant);
    const latest = await checkpoints.loadLatest(
      root,
      (s) => deps.log({ event: 'checkpoint-skipped', runId, variant, ...s }),
      untilStep,
    );
    const state = latest ? fromTensors(latest.tensors) : initialState(params);
    const resumedFrom = state.step;
    let committed = latest
      ? { key: latest.manifestKey, sha256: latest.manifest.data.sha256, step: latest.manifest.step }
      : undefined;
    deps.log({ event: 'resume', runId, variant, step: resumedFrom, attempt: ctx.info.attempt, untilStep });

    const commit = async (): Promise<void> => {
      if (committed?.step === state.step) return;
      const meta = {
        runId,
        track: variant,
        seed,
        params,
        codeVersion: deps.codeVersion,
        backend: 'float64-js',
        rng: { algorithm: 'philox4x32-10', stream: 'fig7/noise', counter: state.step },
        config: publicConfig(deps.config),
      };
      const { manifest, manifestKey } = await checkpoints.commit(root, state.step, toTensors(state), meta);
      committed = { key: manifestKey, sha256: manifest.data.sha256, step: state.step };
      deps.log({ event: 'checkpoint', runId, variant, step: state.step, key: manifestKey });
    };
    const result = (preempted: boolean): AdvanceToyTrajectoryResult => ({
      step: state.step,
      checkpointKey: committed!.key,
      sha256: committed!.sha256,
      resumedFrom,
      preempted,
    });

    while (state.step < untilStep) {
      const nextCheckpoint = (Math.floor(state.step / params.checkpointEvery) + 1) * params.checkpointEvery;
      const target = Math.min(untilStep, nextCheckpoint, state.step + CHUNK);
      try {
        advance(state, params, variant, seed, target);
      } catch (err) {
        if (err instanceof DivergenceError) throw ApplicationFailure.nonRetryable(err.message, 'Divergence');
        throw err;
      }
      if (state.step === nextCheckpoint) await commit();
      ctx.heartbeat({
        step: state.step,
        checkpointKey: committed?.key,
        loss: loss(params, state.theta1, state.theta2),
      });
      await yieldToEventLoop();
      // The SDK cancels with WORKER_SHUTDOWN when the grace time runs out: that is preemption too.
      const shutdown =
        deps.stopping.aborted ||
        (ctx.cancellationSignal.aborted && (ctx.cancellationSignal.reason as Error)?.message === 'WORKER_SHUTDOWN');
      if (ctx.cancellationSignal.aborted && !shutdown) {
        await commit();
        deps.log({ event: 'cancelled', runId, variant, step: state.step });
        throw ctx.cancellationSignal.reason;
      }
      if (shutdown) {
        await commit();
        deps.log({ event: 'preempted', runId, variant, step: state.step });
        return result(true);
      }
    }
    await commit();
    return result(false);
  };
}
