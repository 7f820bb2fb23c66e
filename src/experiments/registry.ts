/**
 * The one registry: every runnable experiment, one line each. Studies load their numerics
 * (`study.ts`) only when a worker opens them, so the CLI stays free of tfjs.
 */
import { studyExperiment, type Experiment, type StudyExperiment } from './experiment';
import { fig1 } from './fig1/definition';
import { fig2a } from './fig2a/definition';
import { fig2b } from './fig2b/definition';
import { fig2cd } from './fig2cd/definition';
import { fig3 } from './fig3/definition';
import { fig4a } from './fig4a/definition';
import { fig4bc } from './fig4bc/definition';
import { fig5 } from './fig5/definition';
import { fig6 } from './fig6/definition';
import { fig7 } from './fig7/definition';
import { noiseTopk } from './noise-topk/definition';
import { ParamError, type Params, type ResolveOptions } from './params';
import { projectedPath } from './projected-path/definition';
import type { PathExperiment } from './projected-path/figure';

export const EXPERIMENTS: readonly (StudyExperiment | PathExperiment)[] = [
  fig1,
  studyExperiment(fig2a, () => import('./fig2a/study')),
  studyExperiment(fig2b, () => import('./fig2b/study')),
  studyExperiment(fig2cd, () => import('./fig2cd/study')),
  fig3,
  fig4a,
  fig4bc,
  studyExperiment(fig5, () => import('./fig5/study')),
  studyExperiment(fig6, () => import('./fig6/study')),
  studyExperiment(fig7, () => import('./fig7/study')),
  studyExperiment(noiseTopk, () => import('./noise-topk/study')),
  projectedPath,
];

/** One experiment of the main job, with what it took last time it was measured. */
export interface SuiteEntry {
  experiment: string;
  preset: string;
  /**
   * Seconds it took on its own on the 2-core development machine (torch backend, 2026-12-06;
   * fig1 on 2026-12-07, after its epoch pairs became one activity each):
   * orders the suite longest first and sizes the first ETAs; `repro reproduce` replaces it with
   * this machine's own measurement once it has one (`timings.json` in the data folder).
   */
  seconds: number;
  /** An experiment whose stages this one reuses from the cache: it starts when that one is done. */
  after?: string;
}

/** What `npm start` (`repro reproduce`) runs on the embedded default: every figure's small preset (fig4a's quick). */
export const DEFAULT_SUITE: readonly SuiteEntry[] = [
  { experiment: 'fig7', preset: 'small', seconds: 4 },
  { experiment: 'fig2b', preset: 'small', seconds: 1 },
  { experiment: 'fig2cd', preset: 'small', seconds: 1 },
  { experiment: 'fig2a', preset: 'small', seconds: 75 },
  { experiment: 'fig5', preset: 'small', seconds: 54 },
  { experiment: 'fig6', preset: 'small', seconds: 25 },
  { experiment: 'noise-topk', preset: 'small', seconds: 124 },
  { experiment: 'fig1', preset: 'small', seconds: 243 },
  { experiment: 'fig3', preset: 'small', seconds: 2, after: 'fig1' },
  { experiment: 'fig4bc', preset: 'small', seconds: 27 },
  { experiment: 'fig4a', preset: 'quick', seconds: 102 },
];

export function findExperiment(name: string): StudyExperiment | PathExperiment {
  const found = EXPERIMENTS.find((e) => e.name === name);
  if (!found) {
    throw new ParamError(
      `unknown experiment '${name}'; available: ${EXPERIMENTS.map((e) => e.name).join(', ')} ` +
        '(see `repro experiments`)',
    );
  }
  return found;
}

/** A study by name (the study runtime's activities). */
export function findStudy(name: string): StudyExperiment {
  const e = findExperiment(name);
  if (e.workflowType !== 'studyWorkflow') throw new Error(`'${name}' is not a study`);
  return e;
}

/** A figure over the projected-path engine by name (its summary activity). */
export function findPathExperiment(name: string): PathExperiment {
  const e = findExperiment(name);
  if (e.workflowType !== 'projectedPathWorkflow')
    throw new Error(`'${name}' does not run on the projected-path engine`);
  return e;
}

/** Resolve an experiment's parameters from a preset and `--set` pairs, then validate them. */
export function planRun(
  name: string,
  preset: string,
  sets: readonly string[],
  opts: ResolveOptions = {},
): { experiment: Experiment; params: Params } {
  const experiment = findExperiment(name);
  return { experiment, params: experiment.resolve(preset, sets, opts) };
}
