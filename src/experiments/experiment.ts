/**
 * The experiment contract. Every experiment is a folder `src/experiments/<name>/` with a
 * `definition.ts` (an {@link ExperimentSpec}: parameters declared once, presets, substitutions)
 * and either a `study.ts` (a {@link Study}: its units, their programs, its analysis) run by the
 * study runtime, or presets and analysis hooks over an engine that is not a study (today the
 * projected-path engine; see projected-path/figure.ts). The registry turns each into an
 * {@link Experiment}, the untyped view the CLI, the workflows' inputs and the activities share.
 */
import type { Tensor } from '../checkpoint/safetensors';
import type { DataSource, ImageSet } from '../data/data-source';
import type { Figure } from '../report/figures';
import type { Claim } from '../results/claims';
import { ParamError, type ParamSet, type ParamSpec, type Params, type ResolveOptions } from './params';

/** What an experiment declares, typed by its parameters. */
export interface ExperimentSpec<P extends Params> {
  name: string;
  title: string;
  paper: string;
  description: string;
  params: ParamSet<P>;
  /** Named parameter sets over the defaults; `small` (what `npm start` runs) and `paper` must exist. */
  presets: { small: Partial<P>; paper: Partial<P> } & Record<string, Partial<P>>;
  /** Cross-parameter checks; throws {@link ParamError}. */
  validate?(p: P): void;
  /**
   * Where a run departs from the paper's setting, in words (e.g. "MNIST in place of CIFAR-10,
   * which is not on this machine"); empty when it follows the paper.
   */
  substitutions?(p: P): string[];
}

/** The Temporal workflow that runs an experiment. */
export type WorkflowType = 'studyWorkflow' | 'projectedPathWorkflow';

/** An experiment as the CLI and the runtimes see it: untyped parameters, checked on the way in. */
export interface Experiment {
  readonly name: string;
  readonly title: string;
  readonly paper: string;
  readonly description: string;
  readonly workflowType: WorkflowType;
  readonly params: readonly ParamSpec[];
  readonly presets: Readonly<Record<string, Readonly<Partial<Params>>>>;
  /** Defaults, then the preset, then `key=value` pairs; checked and validated. */
  resolve(preset: string, sets: readonly string[], opts?: ResolveOptions): Params;
  substitutions(params: Params): string[];
}

/** The untyped view of a spec: resolution, checks and substitutions close over its type. */
export function experimentOf<P extends Params>(spec: ExperimentSpec<P>, workflowType: WorkflowType): Experiment {
  return {
    name: spec.name,
    title: spec.title,
    paper: spec.paper,
    description: spec.description,
    workflowType,
    params: spec.params.specs,
    presets: spec.presets,
    resolve(preset, sets, opts) {
      if (!Object.prototype.hasOwnProperty.call(spec.presets, preset)) {
        throw new ParamError(
          `unknown preset '${preset}' for ${spec.name}; available: ${Object.keys(spec.presets).join(', ')}`,
        );
      }
      const p = spec.params.resolve(spec.name, spec.presets[preset]!, sets, opts);
      spec.validate?.(p);
      return p;
    },
    substitutions: (params) => spec.substitutions?.(spec.params.check(spec.name, params)) ?? [],
  };
}

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

/** Where a unit runs: its seed, its spec, and the final states of earlier phases. */
export interface UnitEnv {
  seed: number;
  unit: UnitSpec;
  /** The final state of a unit of an earlier phase. */
  upstream(unitId: string): Promise<Record<string, Tensor>>;
  /** The worker's data sets (those the study declares in {@link Study.datasets}). */
  data: DataSource;
}

/** What a unit's program sees. */
export interface UnitContext<P> extends UnitEnv {
  params: P;
}

export interface UnitHooks {
  /** True when the unit must return early (worker stopping or the run cancelled). */
  shouldStop(): boolean;
  /** Progress for heartbeats. */
  onStep?(step: number): void;
}

/** How a unit computes: `float64-js` (plain JS) or `tfjs` (the worker's backend, whose label keys its cache). */
export type Numerics = 'float64-js' | 'tfjs';

/**
 * A resumable computation: `advance` from any saved state to any later step gives the same
 * result as an uninterrupted run (randomness is a pure function of seed, stream and step).
 */
export interface UnitProgram<P, S> {
  numerics: Numerics;
  init(ctx: UnitContext<P>): Promise<S> | S;
  /** Advance to `untilStep` (or stop early between steps when `hooks.shouldStop()`). */
  advance(ctx: UnitContext<P>, state: S, untilStep: number, hooks: UnitHooks): Promise<S>;
  step(state: S): number;
  save(state: S): Record<string, Tensor>;
  load(tensors: Record<string, Tensor>): S;
  /** The unit's result for the analysis: small JSON (series, scalars). */
  output(ctx: UnitContext<P>, state: S): Promise<unknown> | unknown;
}

/** What an analysis makes of a run's outputs: claims, figures (in report order) and a summary. */
export interface Analysis {
  claims: Claim[];
  figures: Figure[];
  summary: Record<string, unknown>;
}

/** A study: its units, their programs and its analysis. */
export interface Study<P> {
  units(params: P): UnitSpec[];
  /** The data sets its units read from the worker: their content identities key the units' cache. */
  datasets?(params: P): ImageSet[];
  program(unit: UnitSpec): UnitProgram<P, unknown>;
  analyze(params: P, outputs: Record<string, unknown>, seed: number): Analysis;
}

/** A unit program with its run's parameters bound: what the study runtime drives. */
export interface BoundProgram {
  numerics: Numerics;
  init(env: UnitEnv): Promise<unknown>;
  advance(env: UnitEnv, state: unknown, untilStep: number, hooks: UnitHooks): Promise<unknown>;
  step(state: unknown): number;
  save(state: unknown): Record<string, Tensor>;
  load(tensors: Record<string, Tensor>): unknown;
  output(env: UnitEnv, state: unknown): Promise<unknown>;
}

/** A study with one run's parameters checked and bound. */
export interface StudyRun {
  units: UnitSpec[];
  datasets: ImageSet[];
  program(unit: UnitSpec): BoundProgram;
  analyze(outputs: Record<string, unknown>, seed: number): Analysis;
}

/** A study experiment: its definition, and its study loaded when a worker needs it (numerics stay out of the CLI). */
export interface StudyExperiment extends Experiment {
  readonly workflowType: 'studyWorkflow';
  open(params: Params): Promise<StudyRun>;
}

/** Register a study: the spec, and a loader for its `study.ts`. */
export function studyExperiment<P extends Params>(
  spec: ExperimentSpec<P>,
  load: () => Promise<{ study: Study<P> }>,
): StudyExperiment {
  return {
    ...experimentOf(spec, 'studyWorkflow'),
    workflowType: 'studyWorkflow',
    async open(raw) {
      const params = spec.params.check(spec.name, raw);
      const { study } = await load();
      return bindStudy(study, params);
    },
  };
}

/** Bind a study to its parameters. */
function bindStudy<P>(study: Study<P>, params: P): StudyRun {
  return {
    units: study.units(params),
    datasets: study.datasets?.(params) ?? [],
    program(unit) {
      const p = study.program(unit);
      const ctx = (env: UnitEnv): UnitContext<P> => ({ ...env, params });
      return {
        numerics: p.numerics,
        init: async (env) => p.init(ctx(env)),
        advance: (env, state, untilStep, hooks) => p.advance(ctx(env), state, untilStep, hooks),
        step: (state) => p.step(state),
        save: (state) => p.save(state),
        load: (tensors) => p.load(tensors),
        output: async (env, state) => p.output(ctx(env), state),
      };
    },
    analyze: (outputs, seed) => study.analyze(params, outputs, seed),
  };
}
