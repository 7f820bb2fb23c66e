/**
 * A figure of the paper reproduced on the projected-path engine: its presets, the paper's setting
 * it substitutes for, its figure order and any claims of its own. Each such figure is a folder
 * (fig1, fig3, fig4a, fig4bc) holding one {@link pathExperiment}.
 */
import { experimentOf, type Analysis, type Experiment } from '../experiment';
import type { Params } from '../params';
import { analyzePath, type PathFigureHooks } from './analysis';
import { pathParams, validatePath, type PathParams } from './params';
import type { PathRow, SeedPathStats } from './rows';

/** The paper's model, data and threshold of a figure, to name what a run substitutes. */
export interface PaperSetting {
  model: string;
  dataset: PathParams['dataset'];
  threshold: number;
}

export interface PathFigureSpec extends PathFigureHooks {
  name: string;
  title: string;
  paper: string;
  /** `default` is `small` unless given. */
  presets: { small: Partial<PathParams>; paper: Partial<PathParams> } & Record<string, Partial<PathParams>>;
  /** The paper's setting of this figure (absent for the engine itself, which substitutes nothing). */
  paperSetting?: PaperSetting;
}

/** A figure over the projected-path engine, as the registry, the workflow and its summary see it. */
export interface PathExperiment extends Experiment {
  readonly workflowType: 'projectedPathWorkflow';
  /** A run's stored parameters, checked. */
  check(params: Params): PathParams;
  analyze(p: PathParams, rows: readonly PathRow[], seeds: readonly SeedPathStats[]): Analysis;
}

const DESCRIPTION =
  'Train with SGD; project epoch-boundary states to minima by full-batch GD; bisect until consecutive minima ' +
  'are line-connected; estimate the trace along the path for each seed.';

/** Where a projected-path run departs from the paper's setting of its figure. */
export function pathSubstitutions(paper: PaperSetting | undefined, p: PathParams): string[] {
  if (!paper) return [];
  const out: string[] = [];
  const cifar = p.dataset.startsWith('cifar');
  if (paper.dataset !== p.dataset) {
    out.push(
      `${p.dataset === 'mnist' ? 'MNIST' : p.dataset.toUpperCase()} in place of ${paper.dataset.toUpperCase()}` +
        (cifar || paper.dataset === 'mnist'
          ? ''
          : ': CIFAR is not on this machine (import it with `repro data import`)'),
    );
  }
  if (p.model !== paper.model) out.push(`model ${p.model} in place of ${paper.model}`);
  if (p.threshold !== paper.threshold)
    out.push(`minima below loss ${p.threshold} in place of ${paper.threshold} (what this size of training reaches)`);
  if (p.samples !== 0)
    out.push(
      `${p.samples} training samples, ${p.epochs} epochs, ${p.seeds} seeds (a size that runs in minutes on a CPU)`,
    );
  return out;
}

export function pathExperiment(f: PathFigureSpec): PathExperiment {
  const base = experimentOf(
    {
      name: f.name,
      title: f.title,
      paper: f.paper,
      description: DESCRIPTION,
      params: pathParams,
      presets: { default: f.presets.small, ...f.presets },
      validate: validatePath,
      substitutions: (p) => pathSubstitutions(f.paperSetting, p),
    },
    'projectedPathWorkflow',
  );
  return {
    ...base,
    workflowType: 'projectedPathWorkflow',
    check: (raw) => pathParams.check(f.name, raw),
    analyze: (p, rows, seeds) => analyzePath(p, rows, seeds, f),
  };
}
