/**
 * The activities of fig7's workflow before fig7 became a study (`fig7Workflow`, see
 * workflows/legacy-fig7.ts): kept registered so that a fig7Workflow run started before the change
 * finishes on upgraded workers. Remove with that workflow.
 */
import { setImmediate as yieldToEventLoop } from 'timers/promises';
import { Context } from '@temporalio/activity';
import { publicConfig } from '../temporal.config';
import { CheckpointStore } from '../src/checkpoint/checkpoint-store';
import { fig7Analysis } from '../src/experiments/fig7/analysis';
import type { Fig7Params } from '../src/experiments/fig7/definition';
import { fig7 } from '../src/experiments/fig7/definition';
import {
  advance,
  fromTensors,
  initialState,
  loss,
  toTensors,
  VARIANTS,
  type Variant,
} from '../src/experiments/fig7/toy';
import type { RunResult } from '../src/results/run-result';
import { layout } from '../src/storage/layout';
import type { ActivityDeps } from './deps';
import { nonRetryable, rethrowAsFailure } from './failures';
import { writeRunArtifacts } from './run-artifacts';

/** fig7's parameters as fig7Workflow runs received them (with its segment length). */
export type LegacyFig7Params = Fig7Params & { segmentSteps: number };

/** Advance one fig7 trajectory to `untilStep`, resuming from its latest valid checkpoint. */
export interface AdvanceToyTrajectoryInput {
  runId: string;
  variant: Variant;
  params: LegacyFig7Params;
  seed: number;
  untilStep: number;
}

export interface AdvanceToyTrajectoryResult {
  /** Step the trajectory stands at, committed in `checkpointKey`. */
  step: number;
  checkpointKey: string;
  sha256: string;
  /** Step this attempt resumed from (0 for a fresh start). */
  resumedFrom: number;
  /** True when the worker was stopping: the workflow schedules the rest again. */
  preempted: boolean;
}

export interface SummarizeFig7Input {
  runId: string;
  experiment: string;
  preset: string;
  params: LegacyFig7Params;
  seed: number;
}

/** Steps between yields to the event loop, so heartbeats and cancellation get through. */
const CHUNK = 10_000;

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
    const root = layout.trajectory(runId, variant);
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
        rethrowAsFailure(err);
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

/**
 * Read both finished trajectories, check the claims, and write the artifacts (trajectories,
 * plot, report, result) to the store. Idempotent: a retry rewrites the same objects.
 */
export function makeSummarizeFig7(deps: ActivityDeps) {
  const checkpoints = new CheckpointStore(deps.store);
  return async function summarizeFig7(input: SummarizeFig7Input): Promise<RunResult> {
    const { runId, params } = input;
    const finals: Record<string, ReturnType<typeof fromTensors>> = {};
    for (const variant of VARIANTS) {
      const latest = await checkpoints.loadLatest(layout.trajectory(runId, variant), (s) =>
        deps.log({ event: 'checkpoint-skipped', runId, variant, ...s }),
      );
      if (!latest || latest.manifest.step !== params.steps) {
        throw nonRetryable(
          `fig7 ${variant} trajectory of run ${runId} has no valid checkpoint at step ${params.steps} ` +
            `(latest: ${latest?.manifest.step ?? 'none'})`,
          'MissingCheckpoint',
        );
      }
      finals[variant] = fromTensors(latest.tensors);
    }
    const [gd, noisy] = [finals.gd!, finals.noisy!];
    const out = (s: typeof gd): { theta: [number, number]; samples: typeof gd.samples } => ({
      theta: [s.theta1, s.theta2],
      samples: s.samples,
    });
    const analysis = fig7Analysis(params, out(gd), out(noisy));
    const base: Omit<RunResult, 'artifacts'> = {
      runId,
      experiment: input.experiment,
      preset: input.preset,
      status: 'completed',
      params,
      seed: input.seed,
      backends: ['float64-js'],
      claims: analysis.claims,
      substitutions: [],
      summary: analysis.summary,
      codeVersion: deps.codeVersion,
      finishedAt: new Date().toISOString(),
    };
    const result = await writeRunArtifacts(deps, base, fig7.title, analysis.figures, [
      {
        name: 'trajectories.json',
        body: JSON.stringify({ gd: gd.samples, noisy: noisy.samples }),
        contentType: 'application/json',
      },
    ]);
    deps.log({ event: 'summarized', runId, verdicts: analysis.claims.map((c) => `${c.id}:${c.verdict}`) });
    return result;
  };
}
