import { Context } from '@temporalio/activity';
import type { PipelineParams } from '../../src/experiments/projected-path/definition';
import { hessianOperator } from '../../src/hessian/hvp';
import { xtrace } from '../../src/hessian/trace-estimators';
import { evaluateLoss, lineConnected, projectToMinimum } from '../../src/landscape/landscape';
import type { ActivityDeps } from '../deps';
import { cachedStage } from '../stage-cache';
import type { PipelineWorkspace, StateRef } from './workspace';

/** Every stage answer says whether it came from the cache, so runs can count their reuse. */
export interface Staged<T> {
  value: T;
  cacheHit: boolean;
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

/** The stages of the projection procedure as activities, each cached under its content key. */
export function makePathStages(deps: ActivityDeps, ws: PipelineWorkspace) {
  const heartbeat = (details: unknown): void => Context.current().heartbeat(details);
  return {
    /** Project a stored SGD state to a minimum by full-batch GD. */
    async projectState(input: { params: PipelineParams; state: StateRef; noCache: boolean }): Promise<Staged<Minimum>> {
      const p = input.params;
      const inputs = { state: input.state.sha256, sgd: sgdOf(p), threshold: p.threshold, cap: p.projectionSteps, objective: objectiveConfig(p), code: deps.codeVersion };
      const r = await cachedStage(ws.store, 'project', inputs, !input.noCache, async (key) => {
        const { train, val } = await ws.objectives(p);
        const s = await ws.loadState(input.state);
        const projected = await projectToMinimum(train, { theta: s.theta, velocity: s.velocity }, { sgd: sgdOf(p), threshold: p.threshold, maxSteps: p.projectionSteps, shouldStop: () => { heartbeat({ stage: 'project' }); return false; } });
        const minimum = await ws.saveState(`cache/minima/${key}/`, { step: input.state.iteration, theta: projected.theta, velocity: null }, { from: input.state });
        return { minimum, trainLoss: projected.loss, valLoss: evaluateLoss(val, projected.theta), gdSteps: projected.steps, reached: projected.reached };
      });
      return { value: r.value, cacheHit: r.hit };
    },

    /** Replay SGD from a stored state to a later iteration (same batches, same noise). */
    async replayState(input: { runId: string; seed: number; params: PipelineParams; from: StateRef; toIteration: number; noCache: boolean }): Promise<Staged<StateRef>> {
      const p = input.params;
      const inputs = { from: input.from.sha256, to: input.toIteration, seed: input.seed, sgd: sgdOf(p), batch: p.batch, augment: p.augment, objective: objectiveConfig(p), code: deps.codeVersion };
      const r = await cachedStage(ws.store, 'replay', inputs, !input.noCache, async () => {
        const trainer = await ws.trainer(p, input.seed);
        const s = await trainer.run(await ws.loadState(input.from), input.toIteration, { yieldEvery: 1, onStep: (step) => heartbeat({ stage: 'replay', step }) });
        return ws.saveState(`runs/${input.runId}/seed-${input.seed}/replay/`, s, { from: input.from });
      });
      return { value: r.value, cacheHit: r.hit };
    },

    /** Line-connectedness of two stored minima. */
    async checkConnected(input: { params: PipelineParams; a: StateRef; b: StateRef; noCache: boolean }): Promise<Staged<{ connected: boolean; losses: number[] }>> {
      const p = input.params;
      const inputs = { a: input.a.sha256, b: input.b.sha256, threshold: p.threshold, points: p.linePoints, objective: objectiveConfig(p), code: deps.codeVersion };
      const r = await cachedStage(ws.store, 'line', inputs, !input.noCache, async () => {
        const { train } = await ws.objectives(p);
        const [a, b] = await Promise.all([ws.loadState(input.a), ws.loadState(input.b)]);
        heartbeat({ stage: 'line' });
        return lineConnected(train, a.theta, b.theta, p.threshold, p.linePoints);
      });
      return { value: r.value, cacheHit: r.hit };
    },

    /** Hessian trace at a stored minimum (XTrace, full training batch). */
    async estimateTrace(input: { params: PipelineParams; minimum: StateRef; probeSeed: number; noCache: boolean }): Promise<Staged<{ trace: number; stderr: number; hvps: number }>> {
      const p = input.params;
      const inputs = { minimum: input.minimum.sha256, probes: p.probes, probeSeed: input.probeSeed, objective: objectiveConfig(p), code: deps.codeVersion };
      const r = await cachedStage(ws.store, 'trace', inputs, !input.noCache, async () => {
        const { train } = await ws.objectives(p);
        const s = await ws.loadState(input.minimum);
        const op = hessianOperator(train, s.theta);
        try {
          const counted = { dim: op.dim, apply: async (v: Float64Array) => { heartbeat({ stage: 'trace' }); return op.apply(v); } };
          const est = await xtrace(counted, { matvecs: p.probes, seed: input.probeSeed });
          return { trace: est.value, stderr: est.stderr, hvps: est.matvecs };
        } finally {
          op.dispose();
        }
      });
      return { value: r.value, cacheHit: r.hit };
    },
  };
}
