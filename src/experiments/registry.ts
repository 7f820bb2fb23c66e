import { fig2a } from './fig2a/definition';
import { fig2b } from './fig2b/definition';
import { fig2cd } from './fig2cd/definition';
import { fig5 } from './fig5/definition';
import { fig6 } from './fig6/definition';
import { fig7 } from './fig7/definition';
import { noiseTopk } from './noise-topk/definition';
import { fig1, fig3, fig4a, fig4bc, projectedPath } from './projected-path/definition';
import { ParamError, resolveParams, type ParamSpec, type Params } from './params';

/** One runnable experiment: what it checks, its parameters and which workflow runs it. */
export interface ExperimentDefinition {
  name: string;
  title: string;
  paper: string;
  description: string;
  /** Name of the Temporal workflow function that runs it. */
  workflowType: string;
  params: ParamSpec[];
  /** Named parameter sets; `default` must exist. */
  presets: Record<string, Params>;
  /** Cross-parameter checks; throws {@link ParamError}. */
  validate?(params: Params): void;
  /**
   * Where a run departs from the paper's setting, in words (e.g. "MNIST in place of CIFAR-10,
   * which is not on this machine"); empty when it follows the paper.
   */
  substitutions?(params: Params): string[];
}

export const EXPERIMENTS: readonly ExperimentDefinition[] = [
  fig1,
  fig2a,
  fig2b,
  fig2cd,
  fig3,
  fig4a,
  fig4bc,
  fig5,
  fig6,
  fig7,
  noiseTopk,
  projectedPath,
];

/** What `npm start` (`repro reproduce`) runs on the embedded default: the small preset of every figure. */
export const DEFAULT_SUITE: ReadonlyArray<{ experiment: string; preset: string }> = [
  'fig7',
  'fig2b',
  'fig2cd',
  'fig2a',
  'fig5',
  'fig6',
  'noise-topk',
  'fig1',
  'fig3',
  'fig4bc',
  'fig4a',
].map((experiment) => ({ experiment, preset: 'small' }));

export function findExperiment(name: string): ExperimentDefinition {
  const found = EXPERIMENTS.find((e) => e.name === name);
  if (!found) {
    throw new ParamError(
      `unknown experiment '${name}'; available: ${EXPERIMENTS.map((e) => e.name).join(', ')} (see \`repro experiments\`)`,
    );
  }
  return found;
}

/** Resolve an experiment's parameters from a preset and `--set` pairs, then validate them. */
export function planRun(
  name: string,
  preset: string,
  sets: string[],
): { experiment: ExperimentDefinition; params: Params } {
  const experiment = findExperiment(name);
  const presetParams = experiment.presets[preset];
  if (!presetParams) {
    throw new ParamError(
      `unknown preset '${preset}' for ${name}; available: ${Object.keys(experiment.presets).join(', ')}`,
    );
  }
  const params = resolveParams(name, experiment.params, presetParams, sets);
  experiment.validate?.(params);
  return { experiment, params };
}
