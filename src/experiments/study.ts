/**
 * The one shape of an experiment that is a set of independent computations ("units"): the toy
 * studies, the MNIST studies and fig7. A study declares its units (grouped in phases, a later
 * phase reading the earlier ones' results), a resumable program for each, and an analysis that
 * turns the units' outputs into claims and figures. The runtime (workflows/study-workflow.ts,
 * activities/study/) makes every unit durable: checkpoints to S3, heartbeats, resume anywhere,
 * preemption, content-keyed caching, and the report.
 */
import type { Tensor } from '../checkpoint/safetensors';
import type { Claim } from '../results/claims';
import type { ExperimentDefinition } from './registry';
import type { Params } from './params';

/** One unit of work of a study run. Small: it travels in workflow payloads. */
export interface UnitSpec {
  /** Unique within the run, readable: `lr=0.02`, `sgd`, `batch=50,lr=0.1`. */
  id: string;
  /** Units of phase k start when every unit of earlier phases is done. */
  phase: number;
  /** Total steps of the unit (its progress and resume points are in these steps). */
  steps: number;
  /** Steps between checkpoints. */
  checkpointEvery: number;
  /** `cpu` for plain-JS numerics (toys), `gpu` for tfjs models (one model per slot). */
  queue: 'cpu' | 'gpu';
  /** Anything the program needs to know about this unit (an η, a noise kind, a seed offset...). */
  args: Record<string, number | string | boolean>;
}

/** What a unit's program sees. */
export interface UnitContext<P> {
  params: P;
  seed: number;
  unit: UnitSpec;
  /** The final state of a unit of an earlier phase. */
  upstream(unitId: string): Promise<Record<string, Tensor>>;
}

export interface UnitHooks {
  /** True when the unit must return early (worker stopping or the run cancelled). */
  shouldStop(): boolean;
  /** Progress for heartbeats. */
  onStep?(step: number): void;
}

/**
 * A resumable computation: `advance` from any saved state to any later step gives the same
 * result as an uninterrupted run (randomness is a pure function of seed, stream and step).
 */
export interface UnitProgram<P, S> {
  /** `float64-js` for plain-JS numerics; `tfjs` for the worker's tfjs backend (its label keys the unit's cache). */
  numerics: 'float64-js' | 'tfjs';
  init(ctx: UnitContext<P>): Promise<S> | S;
  /** Advance to `untilStep` (or stop early between steps when `hooks.shouldStop()`). */
  advance(ctx: UnitContext<P>, state: S, untilStep: number, hooks: UnitHooks): Promise<S>;
  step(state: S): number;
  save(state: S): Record<string, Tensor>;
  load(tensors: Record<string, Tensor>): S;
  /** The unit's result for the analysis: small JSON (series, scalars). */
  output(ctx: UnitContext<P>, state: S): Promise<unknown> | unknown;
}

/** A figure of a report: a Vega-Lite specification, rendered to SVG by the report writer. */
export interface Figure {
  id: string;
  title: string;
  caption: string;
  /** Vega-Lite spec, data inlined. */
  spec: Record<string, unknown>;
}

export interface StudyAnalysis {
  claims: Claim[];
  figures: Figure[];
  summary: Record<string, unknown>;
}

/** A study: its definition, units, programs and analysis. */
export interface Study<P = Params> {
  definition: ExperimentDefinition;
  units(params: P): UnitSpec[];
  program(unit: UnitSpec): UnitProgram<P, unknown>;
  analyze(params: P, outputs: Record<string, unknown>, seed: number): StudyAnalysis;
}

/** Build a study with typed parameters (the registry holds them untyped). */
export function defineStudy<P>(s: Study<P>): Study<Params> {
  return s as unknown as Study<Params>;
}

/**
 * Run a study in this process, without Temporal or S3 (tests, quick looks): every unit from
 * its start to its end, phase by phase, then the analysis. The durable runtime gives the same
 * outputs (programs are deterministic).
 */
export async function runStudyLocally<P>(
  study: Study<P>,
  params: P,
  seed: number,
): Promise<{ outputs: Record<string, unknown>; analysis: StudyAnalysis }> {
  const units = study.units(params);
  const finals = new Map<string, Record<string, Tensor>>();
  const outputs: Record<string, unknown> = {};
  for (const phase of [...new Set(units.map((u) => u.phase))].sort((a, b) => a - b)) {
    for (const unit of units.filter((u) => u.phase === phase)) {
      const program = study.program(unit);
      const ctx: UnitContext<P> = {
        params,
        seed,
        unit,
        upstream: async (id) => {
          const t = finals.get(id);
          if (!t) throw new Error(`unit ${unit.id} reads '${id}', which has not run`);
          return t;
        },
      };
      const state = await program.advance(ctx, await program.init(ctx), unit.steps, { shouldStop: () => false });
      finals.set(unit.id, program.save(state));
      outputs[unit.id] = await program.output(ctx, state);
    }
  }
  return { outputs, analysis: study.analyze(params, outputs, seed) };
}
