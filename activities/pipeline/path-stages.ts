import { ApplicationFailure, Context } from '@temporalio/activity';
import type { PipelineParams } from '../../src/experiments/projected-path/definition';
import { hessianOperator } from '../../src/hessian/hvp';
import { xtrace } from '../../src/hessian/trace-estimators';
import { evaluateLoss, lineConnected, projectToMinimum } from '../../src/landscape/landscape';
import { DivergenceError } from '../../src/train/divergence';
import type { ActivityDeps } from '../deps';
import { cachedStage, isPreempted, Stopwatch, type Preempted } from '../stage-cache';
import { tensorsToState, type PipelineWorkspace, type StateRef } from './workspace';

/** Every stage answer says whether it came from the cache and how long its numerics took. */
export interface Staged<T> {
  value: T;
  cacheHit: boolean;
  /** Milliseconds in numerics (0 on a cache hit). */
  computeMs: number;
}

export interface Minimum {
  minimum: StateRef;
  trainLoss: number;
  valLoss: number;
  gdSteps: number;
  reached: boolean;
}

const sgdOf = (p: PipelineParams) => ({ lr: p.lr, momentum: p.momentum, dampening: p.dampening, weightDecay: p.weightDecay });
const objectiveConfig = (p: PipelineParams) => ({ model: p.model, dataset: p.dataset, samples: p.samples, valSamples: p.valSamples, smoothing: p.smoothing });

/** What decides a trace estimate: its cache key's inputs (shared by the stage and the batched lookup). */
export const traceInputs = (p: PipelineParams, minimumSha: string, probeSeed: number, code: string) => ({ minimum: minimumSha, probes: p.probes, probeSeed, objective: objectiveConfig(p), code });

/** What decides the bisection between two SGD states: every stage setting it uses, and the seed (replays). */
export const segmentInputs = (p: PipelineParams, seed: number, a: StateRef, b: StateRef, code: string) => ({
  a: a.sha256, b: b.sha256, seed, sgd: sgdOf(p), batch: p.batch, augment: p.augment, threshold: p.threshold, cap: p.projectionSteps, points: p.linePoints, objective: objectiveConfig(p), code,
});

function staged<T>(r: { value: T; hit: boolean } | Preempted, sw: Stopwatch): Staged<T> | (Preempted & { computeMs: number }) {
  return isPreempted(r) ? { preempted: true, computeMs: sw.ms } : { value: r.value, cacheHit: r.hit, computeMs: sw.ms };
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
  const progressRoot = (kind: string, key: string, runId: string, noCache: boolean): string => noCache ? `runs/${runId}/${kind}/${key}/` : `cache/${kind}/${key}/`;
  const clear = async (root: string): Promise<void> => { for (const k of await ws.store.list(root)) await ws.store.delete(k); };

  return {
    /**
     * Project a stored SGD state to a minimum by full-batch GD, checkpointing every
     * `projectionCheckpointEvery` GD steps. On worker shutdown it commits where it stands and
     * answers `preempted` (the workflow asks again; no retry is spent).
     */
    async projectState(input: { runId: string; params: PipelineParams; state: StateRef; noCache: boolean }): Promise<Staged<Minimum> | (Preempted & { computeMs: number })> {
      const p = input.params;
      const sw = new Stopwatch();
      const inputs = { state: input.state.sha256, sgd: sgdOf(p), threshold: p.threshold, cap: p.projectionSteps, objective: objectiveConfig(p), code: deps.codeVersion };
      const r = await cachedStage<Minimum>(ws.store, 'project', inputs, !input.noCache, async (key) => {
        const { train, val } = await ws.objectives(p);
        const progress = progressRoot('projecting', key, input.runId, input.noCache);
        const saved = await ws.checkpoints.loadLatest(progress, (s) => deps.log({ event: 'checkpoint-skipped', runId: input.runId, ...s }));
        const start = saved ? tensorsToState(saved.tensors) : { ...(await ws.loadState(input.state)), step: 0 };
        deps.log({ event: 'projection-resume', runId: input.runId, key, gdStep: start.step, attempt: Context.current().info.attempt });
        const projected = await sw.time(() => projectToMinimum(train, { theta: start.theta, velocity: start.velocity, steps: start.step }, {
          sgd: sgdOf(p), threshold: p.threshold, maxSteps: p.projectionSteps, checkpointEvery: p.projectionCheckpointEvery,
          shouldStop: () => { heartbeat({ stage: 'project' }); return stopping(); },
          onCheckpoint: async (s) => {
            await ws.saveState(progress, { step: s.steps, theta: s.theta, velocity: s.velocity }, { from: input.state, kind: 'projection in progress' });
            await ws.checkpoints.prune(progress, s.steps); // only the newest is ever resumed from
            deps.log({ event: 'projection-checkpoint', runId: input.runId, key, gdStep: s.steps });
          },
        }).catch(nonRetryableDivergence));
        if (projected.stopped) {
          if (!deps.stopping.aborted) throw Context.current().cancellationSignal.reason;
          return { preempted: true };
        }
        const valLoss = await sw.time(() => evaluateLoss(val, projected.theta));
        const minimum = await ws.saveState(`cache/minima/${key}/`, { step: input.state.iteration, theta: projected.theta, velocity: null }, { from: input.state });
        await clear(progress); // the answer is committed; the GD checkpoints are no longer needed
        return { minimum, trainLoss: projected.loss, valLoss, gdSteps: projected.steps, reached: projected.reached };
      });
      return staged(r, sw);
    },

    /** Replay SGD from a stored state to a later iteration (same batches, same noise), checkpointing every `checkpointEvery` iterations. */
    async replayState(input: { runId: string; seed: number; params: PipelineParams; from: StateRef; toIteration: number; noCache: boolean }): Promise<Staged<StateRef>> {
      const p = input.params;
      const sw = new Stopwatch();
      const inputs = { from: input.from.sha256, to: input.toIteration, seed: input.seed, sgd: sgdOf(p), batch: p.batch, augment: p.augment, objective: objectiveConfig(p), code: deps.codeVersion };
      const r = await cachedStage<StateRef>(ws.store, 'replay', inputs, !input.noCache, async (key) => {
        const trainer = await ws.trainer(p, input.seed);
        const progress = progressRoot('replaying', key, input.runId, input.noCache);
        const saved = await ws.checkpoints.loadLatest(progress, () => {}, input.toIteration);
        let s = saved ? tensorsToState(saved.tensors) : await ws.loadState(input.from);
        while (s.step < input.toIteration) {
          const target = p.checkpointEvery ? Math.min(input.toIteration, (Math.floor(s.step / p.checkpointEvery) + 1) * p.checkpointEvery) : input.toIteration;
          const from = s;
          s = await sw.time(() => trainer.run(from, target, { yieldEvery: 1, onStep: (step) => heartbeat({ stage: 'replay', step }), shouldStop: cancelled }).catch(nonRetryableDivergence));
          if (cancelled()) throw Context.current().cancellationSignal.reason;
          if (s.step < input.toIteration) {
            await ws.saveState(progress, s, { from: input.from, kind: 'replay in progress' });
            await ws.checkpoints.prune(progress, s.step);
          }
        }
        const ref = await ws.saveState(`cache/replays/${key}/`, s, { from: input.from });
        await clear(progress);
        return ref;
      });
      return staged(r, sw) as Staged<StateRef>;
    },

    /** Line-connectedness of two stored minima. */
    async checkConnected(input: { params: PipelineParams; a: StateRef; b: StateRef; noCache: boolean }): Promise<Staged<{ connected: boolean; losses: number[] }>> {
      const p = input.params;
      const sw = new Stopwatch();
      const inputs = { a: input.a.sha256, b: input.b.sha256, threshold: p.threshold, points: p.linePoints, objective: objectiveConfig(p), code: deps.codeVersion };
      const r = await cachedStage(ws.store, 'line', inputs, !input.noCache, async () => {
        const { train } = await ws.objectives(p);
        const [a, b] = await Promise.all([ws.loadState(input.a), ws.loadState(input.b)]);
        heartbeat({ stage: 'line' });
        return sw.time(() => lineConnected(train, a.theta, b.theta, p.threshold, p.linePoints));
      });
      return staged(r, sw) as Staged<{ connected: boolean; losses: number[] }>;
    },

    /**
     * Hessian trace at a stored minimum (XTrace, full training batch). A stopping worker answers
     * `preempted` between HVPs (the estimate starts over elsewhere; no retry is spent).
     */
    async estimateTrace(input: { params: PipelineParams; minimum: StateRef; probeSeed: number; noCache: boolean }): Promise<Staged<{ trace: number; stderr: number; hvps: number }> | (Preempted & { computeMs: number })> {
      const p = input.params;
      const sw = new Stopwatch();
      const inputs = traceInputs(p, input.minimum.sha256, input.probeSeed, deps.codeVersion);
      const r = await cachedStage<{ trace: number; stderr: number; hvps: number }>(ws.store, 'trace', inputs, !input.noCache, async () => {
        const { train } = await ws.objectives(p);
        const s = await ws.loadState(input.minimum);
        return sw.time(async (): Promise<{ trace: number; stderr: number; hvps: number } | Preempted> => {
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
            const est = await xtrace(counted, { matvecs: p.probes, seed: input.probeSeed });
            return { trace: est.value, stderr: est.stderr, hvps: est.matvecs };
          } catch (err) {
            if (err === STOP) return { preempted: true };
            throw err;
          } finally {
            op.dispose();
          }
        });
      });
      return staged(r, sw);
    },
  };
}
