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

export interface PathFigureSpec extends PathFigureHooks {
  name: string;
  title: string;
  paper: string;
  /** `default` is `small` unless given. */
  presets: { small: Partial<PathParams>; paper: Partial<PathParams> } & Record<string, Partial<PathParams>>;
  /**
   * A figure of the paper: its `paper` presets (`paper`, `paper-*`) are the paper's settings, and a
   * run names where it departs from the closest one (the engine itself substitutes nothing).
   */
  ofPaper?: boolean;
  /**
   * The figure whose runs this one reads again (fig3: fig1's, with the same presets the same
   * seeds and cached stages): its claims say so, and are not counted as independent evidence.
   */
  viewOf?: string;
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

/** The training and line-check settings the paper states, compared with its preset's values. */
const STATED: ReadonlyArray<keyof PathParams> = [
  'lr',
  'momentum',
  'dampening',
  'weightDecay',
  'batch',
  'smoothing',
  'augment',
  'linePoints',
];

/**
 * Where a projected-path run departs from the paper's setting of its figure: the paper preset of
 * the same model, else of the same data set, else `paper`.
 */
export function pathSubstitutions(paperSettings: readonly PathParams[], p: PathParams): string[] {
  const paper =
    paperSettings.find((q) => q.model === p.model) ??
    paperSettings.find((q) => q.dataset === p.dataset) ??
    paperSettings[0];
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
  if (p.threshold !== 'auto')
    out.push(
      `minima below a fixed loss ${p.threshold} in place of each seed's own minimal SGD training loss ` +
        "(the paper's threshold)",
    );
  if (p.margin > 0)
    out.push(
      `projections stop ${p.margin} below the threshold the line checks test, in place of at it: segments get ` +
        "room the paper's procedure does not give them",
    );
  for (const k of STATED) if (p[k] !== paper[k]) out.push(`${k} ${String(p[k])} in place of ${String(paper[k])}`);
  if (p.samples !== paper.samples || p.epochs !== paper.epochs || p.seeds !== paper.seeds)
    out.push(
      `${p.samples || 'all'} training samples, ${p.epochs} epochs, ${p.seeds} seeds in place of ` +
        `${paper.samples || 'all'}, ${paper.epochs}, ${paper.seeds}`,
    );
  return out;
}

export function pathExperiment(f: PathFigureSpec): PathExperiment {
  const paperSettings = (): PathParams[] =>
    f.ofPaper
      ? Object.keys(f.presets)
          .filter((k) => k === 'paper' || k.startsWith('paper-'))
          .map((k) => pathParams.resolve(f.name, f.presets[k]!, []))
      : [];
  const base = experimentOf(
    {
      name: f.name,
      title: f.title,
      paper: f.paper,
      description: DESCRIPTION,
      params: pathParams,
      presets: { default: f.presets.small, ...f.presets },
      validate: validatePath,
      substitutions: (p) => pathSubstitutions(paperSettings(), p),
    },
    'projectedPathWorkflow',
  );
  return {
    ...base,
    workflowType: 'projectedPathWorkflow',
    check: (raw) => pathParams.check(f.name, raw),
    analyze: (p, rows, seeds) => {
      const a = analyzePath(p, rows, seeds, f);
      if (!f.viewOf) return a;
      const view =
        ` — a second view of ${f.viewOf}'s runs (the same seeds and stages), ` + 'not evidence independent of it';
      return {
        ...a,
        claims: a.claims.map((c) => ({ ...c, description: c.description + view })),
        summary: { ...a.summary, viewOf: f.viewOf },
      };
    },
  };
}
