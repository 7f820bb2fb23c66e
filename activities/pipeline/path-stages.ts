import { ApplicationFailure, Context } from '@temporalio/activity';
import { stageIdentity, type PipelineParts, type PipelineStage } from '../../src/experiments/projected-path/parts';
import { hessianOperator } from '../../src/hessian/hvp';
import { xtrace } from '../../src/hessian/trace-estimators';
import { evaluateLoss, lineConnected, projectToMinimum } from '../../src/landscape/landscape';
import type { LineCheck } from '../../src/landscape/projected-path';
import { DivergenceError } from '../../src/train/divergence';
import type { ActivityDeps } from '../deps';
import { cachedStage, contentKey, isPreempted, Stopwatch, type Preempted } from '../stage-cache';
import { tensorsToState } from '../../src/train/state-tensors';
import type { PipelineWorkspace, StateRef } from './workspace';
import { concatDatasets } from '../../src/data/cifar';
import { Trainer, type TrainState } from '../../src/train/trainer';

/** Every stage answer says whether it came from the cache, how long its numerics took and what ran them. */
export interface Staged<T> {
  value: T;
  cacheHit: boolean;
  /** Milliseconds in numerics (0 on a cache hit). */
  computeMs: number;
  /** The numeric backend that computed the value (the one its cache key names). */
  backend: string;
}

export type MaybePreempted<T> = Staged<T> | (Preempted & { computeMs: number });

export interface Minimum {
  minimum: StateRef;
  trainLoss: number;
  valLoss: number;
  gdSteps: number;
  /** The projection got below its target (threshold − margin) within the step cap. */
  reached: boolean;
}

export interface TraceEstimate {
  trace: number;
  stderr: number;
  hvps: number;
}

/** What a stage's cache key hashes (see {@link stageIdentity}). */
export function stageKeyInputs(
  stage: PipelineStage,
  parts: PipelineParts,
  inputs: Record<string, unknown>,
  code: string,
  backend: string,
): unknown {
  return stageIdentity(stage, parts, inputs, { code, backend });
}

/** Thrown inside an estimator to leave it when the worker is stopping. */
const STOP = new Error('worker stopping');

function nonRetryableDivergence(err: unknown): never {
  if (err instanceof DivergenceError) throw ApplicationFailure.nonRetryable(err.message, 'Divergence');
  throw err;
}

/**
 * The stages of the projection procedure as activities, each cached under its content key.
 * Results live under `cache/<kind>/<key>/`; work in progress (a projection's GD, a replay) is
 * checkpointed so a killed attempt loses at most one interval, under `cache/` or, with
 * `--no-cache`, under the run's own prefix so nothing is resumed from another run.
 */
export function makePathStages(deps: ActivityDeps, ws: PipelineWorkspace) {
  const heartbeat = (details: unknown): void => Context.current().heartbeat(details);
  const cancelled = (): boolean => Context.current().cancellationSignal.aborted;
  const stopping = (): boolean => deps.stopping.aborted || cancelled();
  const progressRoot = (kind: string, key: string, runId: string, noCache: boolean): string =>
    noCache ? `runs/${runId}/${kind}/${key}/` : `cache/${kind}/${key}/`;
  const clear = async (root: string): Promise<void> => {
    for (const k of await ws.store.list(root)) await ws.store.delete(k);
  };
  const skipped =
    (runId: string | undefined, stage: string) =>
    (s: { manifestKey: string; reason: string }): void =>
      deps.log({ event: 'checkpoint-skipped', runId, stage, ...s });

  /** Run `compute` under the stage's cache key on this worker's backend for the model. */
  async function stage<T>(
    kind: PipelineStage,
    parts: PipelineParts,
    inputs: Record<string, unknown>,
    noCache: boolean,
    compute: (key: string, sw: Stopwatch) => Promise<T | Preempted>,
  ): Promise<MaybePreempted<T>> {
    const backend = await ws.backend();
    const sw = new Stopwatch();
    const identity = stageKeyInputs(kind, parts, inputs, deps.codeVersion, backend);
    const r = await cachedStage<T>(ws.store, kind, identity, !noCache, (key) => compute(key, sw));
    return isPreempted(r)
      ? { preempted: true, computeMs: sw.ms }
      : { value: r.value, cacheHit: r.hit, computeMs: sw.ms, backend };
  }

  return {
    /**
     * fig4bc's starting point, a minimum that generalizes badly: SGD on the clean samples and the
     * corrupt ones (shuffled labels) together for `badStart.epochs`, then full-batch GD on the
     * clean ones alone for `badStart.gdSteps`, checkpointed every epoch (or 100 GD steps). The
     * state comes back at iteration 0, without momentum: SGD on the clean samples starts there.
     */
    async prepareStart(input: {
      runId: string;
      seed: number;
      parts: PipelineParts;
      noCache: boolean;
    }): Promise<Staged<Minimum>> {
      const { parts, seed } = input;
      const bad = parts.badStart;
      if (!bad) throw ApplicationFailure.nonRetryable('prepareStart needs start=bad-minimum', 'ParamError');
      return stage<Minimum>('start', parts, { seed }, input.noCache, async (key, sw) => {
        const { train: clean } = await ws.datasets(parts.objective);
        const corrupt = await ws.corruptSet(parts.objective, bad.corruptSamples);
        const model = ws.model(parts.objective.model);
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
        const progress = progressRoot('starting', key, input.runId, input.noCache);
        const saved = await ws.checkpoints.loadLatest(progress, skipped(input.runId, 'start'), total);
        let s: TrainState = saved
          ? tensorsToState(saved.tensors)
          : { step: 0, theta: model.init(seed), velocity: null };
        const hooks = {
          yieldEvery: 1,
          onStep: (step: number) => heartbeat({ stage: 'start', step }),
          shouldStop: stopping,
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
                .catch(nonRetryableDivergence),
            );
          } else {
            // GD on the clean samples is a fresh optimizer: no momentum carried over from the mixed run.
            const local = {
              ...from,
              step: from.step - sgdSteps,
              velocity: from.step === sgdSteps ? null : from.velocity,
            };
            const done = await sw.time(() =>
              gd.run(local, Math.min(bad.gdSteps, local.step + 100), hooks).catch(nonRetryableDivergence),
            );
            s = { ...done, step: done.step + sgdSteps };
          }
          await ws.saveState(progress, s, { kind: 'bad minimum in progress', seed });
          await ws.checkpoints.prune(progress, s.step);
          if (stopping()) {
            if (!deps.stopping.aborted) throw Context.current().cancellationSignal.reason;
            // Not resumable as a half answer: the retry (or the next worker) goes on from the checkpoint.
            throw new Error('worker stopping: the bad minimum goes on from its checkpoint elsewhere');
          }
        }
        const { train, val } = await ws.objectives(parts.objective);
        const [trainLoss, valLoss] = await sw.time(() => [evaluateLoss(train, s.theta), evaluateLoss(val, s.theta)]);
        const minimum = await ws.saveState(
          `cache/starts/${key}/`,
          { step: 0, theta: s.theta, velocity: null },
          { seed, kind: 'bad minimum' },
        );
        await clear(progress);
        return { minimum, trainLoss, valLoss, gdSteps: bad.gdSteps, reached: true };
      }) as Promise<Staged<Minimum>>;
    },

    /**
     * Project a stored SGD state to a minimum by full-batch GD (until the loss is below the
     * projection target), checkpointing every `projection.checkpointEvery` GD steps. On worker
     * shutdown it commits where it stands and answers `preempted` (no retry is spent).
     */
    async projectState(input: {
      runId: string;
      parts: PipelineParts;
      state: StateRef;
      noCache: boolean;
    }): Promise<MaybePreempted<Minimum>> {
      const { parts } = input;
      return stage<Minimum>('project', parts, { state: input.state.sha256 }, input.noCache, async (key, sw) => {
        const { train, val } = await ws.objectives(parts.objective);
        const progress = progressRoot('projecting', key, input.runId, input.noCache);
        const saved = await ws.checkpoints.loadLatest(progress, skipped(input.runId, 'project'));
        const start = saved ? tensorsToState(saved.tensors) : { ...(await ws.loadState(input.state)), step: 0 };
        deps.log({
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
                heartbeat({ stage: 'project' });
                return stopping();
              },
              onCheckpoint: async (s) => {
                await ws.saveState(
                  progress,
                  { step: s.steps, theta: s.theta, velocity: s.velocity },
                  { from: input.state, kind: 'projection in progress' },
                );
                await ws.checkpoints.prune(progress, s.steps); // only the newest is ever resumed from
                deps.log({ event: 'projection-checkpoint', runId: input.runId, key, gdStep: s.steps });
              },
            },
          ).catch(nonRetryableDivergence),
        );
        if (projected.stopped) {
          if (!deps.stopping.aborted) throw Context.current().cancellationSignal.reason;
          return { preempted: true };
        }
        const valLoss = await sw.time(() => evaluateLoss(val, projected.theta));
        const minimum = await ws.saveState(
          `cache/minima/${key}/`,
          { step: input.state.iteration, theta: projected.theta, velocity: null },
          { from: input.state },
        );
        await clear(progress); // the answer is committed; the GD checkpoints are no longer needed
        return { minimum, trainLoss: projected.loss, valLoss, gdSteps: projected.steps, reached: projected.reached };
      });
    },

    /** Replay SGD from a stored state to a later iteration (same batches, same noise), checkpointing every `checkpointEvery` iterations. */
    async replayState(input: {
      runId: string;
      seed: number;
      parts: PipelineParts;
      from: StateRef;
      toIteration: number;
      checkpointEvery: number;
      noCache: boolean;
    }): Promise<Staged<StateRef>> {
      const { parts } = input;
      const inputs = { from: input.from.sha256, to: input.toIteration, seed: input.seed };
      return stage<StateRef>('replay', parts, inputs, input.noCache, async (key, sw) => {
        const trainer = await ws.trainer(parts, input.seed);
        const progress = progressRoot('replaying', key, input.runId, input.noCache);
        const saved = await ws.checkpoints.loadLatest(progress, skipped(input.runId, 'replay'), input.toIteration);
        let s = saved ? tensorsToState(saved.tensors) : await ws.loadState(input.from);
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
                onStep: (step) => heartbeat({ stage: 'replay', step }),
                shouldStop: cancelled,
              })
              .catch(nonRetryableDivergence),
          );
          if (cancelled()) throw Context.current().cancellationSignal.reason;
          if (s.step < input.toIteration) {
            await ws.saveState(progress, s, { from: input.from, kind: 'replay in progress' });
            await ws.checkpoints.prune(progress, s.step);
          }
        }
        const ref = await ws.saveState(`cache/replays/${key}/`, s, { from: input.from });
        await clear(progress);
        return ref;
      }) as Promise<Staged<StateRef>>;
    },

    /** Line-connectedness of two stored minima, with the segment's highest loss. */
    async checkConnected(input: {
      parts: PipelineParts;
      a: StateRef;
      b: StateRef;
      noCache: boolean;
    }): Promise<Staged<LineCheck>> {
      const { parts } = input;
      return stage<LineCheck>(
        'line',
        parts,
        { a: input.a.sha256, b: input.b.sha256 },
        input.noCache,
        async (_key, sw) => {
          const { train } = await ws.objectives(parts.objective);
          const [a, b] = await Promise.all([ws.loadState(input.a), ws.loadState(input.b)]);
          heartbeat({ stage: 'line' });
          const r = await sw.time(() =>
            lineConnected(train, a.theta, b.theta, parts.line.threshold, parts.line.points),
          );
          return { connected: r.connected, maxLoss: r.maxLoss };
        },
      ) as Promise<Staged<LineCheck>>;
    },

    /**
     * Hessian trace at a stored minimum (XTrace, full training batch). A stopping worker answers
     * `preempted` between HVPs (the estimate starts over elsewhere; no retry is spent).
     */
    async estimateTrace(input: {
      parts: PipelineParts;
      minimum: StateRef;
      probeSeed: number;
      noCache: boolean;
    }): Promise<MaybePreempted<TraceEstimate>> {
      const { parts } = input;
      return stage<TraceEstimate>(
        'trace',
        parts,
        traceInputs(input.minimum, input.probeSeed),
        input.noCache,
        async (_key, sw) => {
          const { train } = await ws.objectives(parts.objective);
          const s = await ws.loadState(input.minimum);
          return sw.time(async (): Promise<TraceEstimate | Preempted> => {
            const op = hessianOperator(train, s.theta);
            try {
              const counted = {
                dim: op.dim,
                apply: async (v: Float64Array) => {
                  heartbeat({ stage: 'trace' });
                  if (cancelled()) throw Context.current().cancellationSignal.reason;
                  if (deps.stopping.aborted) throw STOP;
                  return op.apply(v);
                },
              };
              const est = await xtrace(counted, { matvecs: parts.trace.probes, seed: input.probeSeed });
              return { trace: est.value, stderr: est.stderr, hvps: est.matvecs };
            } catch (err) {
              if (err === STOP) return { preempted: true };
              throw err;
            } finally {
              op.dispose();
            }
          });
        },
      );
    },
  };
}

/** What names a trace estimate besides its parts (shared by the stage and the batched lookup). */
export const traceInputs = (minimum: StateRef, probeSeed: number): Record<string, unknown> => ({
  minimum: minimum.sha256,
  probeSeed,
});

/** What names a whole bisection between two SGD states besides its parts. */
export const segmentInputs = (seed: number, a: StateRef, b: StateRef): Record<string, unknown> => ({
  a: a.sha256,
  b: b.sha256,
  seed,
});

/** The content key of a stage's answer, for lookups that batch several stages. */
export const stageKey = (
  stage: PipelineStage,
  parts: PipelineParts,
  inputs: Record<string, unknown>,
  code: string,
  backend: string,
): string => contentKey(stage, stageKeyInputs(stage, parts, inputs, code, backend));
