import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import type { Argv, CommandModule } from 'yargs';
import { EXPERIMENTS } from '../../../src/experiments/registry';
import { checkRunId } from '../../../src/runs/ids';
import { layout } from '../../../src/storage/layout';
import { renderCompareHtml } from '../../../src/report/compare-report';
import type { ReportFigure } from '../../../src/report/html-report';
import { overlaySpecs } from '../../../src/report/overlay-figure';
import { renderSvg } from '../../../src/report/render-svg';
import { compareRuns, formatComparison, type RunComparison } from '../../../src/results/run-comparison';
import type { RunResult } from '../../../src/results/run-result';
import { ObjectNotFoundError, type ObjectStore } from '../../../src/storage/object-store';
import { checkS3, makeObjectStore } from '../../clients';
import { pathInside } from '../paths-inside';
import { configFrom, print, printJson, UsageError, type GlobalArgs } from '../context';

interface CompareArgs extends GlobalArgs {
  runA: string;
  runB: string;
  out?: string;
}

/** A finished run's result as its index entry holds it; a {@link UsageError} naming the run when it has none. */
async function finishedResult(store: ObjectStore, runId: string, which: string): Promise<RunResult> {
  try {
    return JSON.parse(Buffer.from(await store.get(layout.indexEntry(runId))).toString('utf8')) as RunResult;
  } catch (err) {
    if (err instanceof ObjectNotFoundError)
      throw new UsageError(
        `run ${which} '${runId}' has no result: it does not exist, is still running, or failed ` +
          `(\`repro status ${runId}\`; \`repro list --status completed\` lists finished runs)`,
      );
    throw err;
  }
}

const SPEC_SUFFIX = '.vl.json';

/** A run's stored figure specs (`artifacts/<id>.vl.json`), by figure id, in the order S3 lists them. */
async function figureSpecs(store: ObjectStore, runId: string): Promise<Map<string, Record<string, unknown>>> {
  const prefix = layout.artifactsPrefix(runId);
  const specs = new Map<string, Record<string, unknown>>();
  for (const key of await store.list(prefix)) {
    const name = key.slice(prefix.length);
    if (!name.endsWith(SPEC_SUFFIX) || name.includes('/')) continue;
    specs.set(name.slice(0, -SPEC_SUFFIX.length), JSON.parse(Buffer.from(await store.get(key)).toString('utf8')));
  }
  return specs;
}

/** Each figure both runs have, the two overlaid and rendered to SVG. */
async function overlaidFigures(store: ObjectStore, c: RunComparison): Promise<ReportFigure[]> {
  const [specsA, specsB] = [await figureSpecs(store, c.a.runId), await figureSpecs(store, c.b.runId)];
  const figures: ReportFigure[] = [];
  for (const [id, a] of specsA) {
    const b = specsB.get(id);
    if (!b) continue;
    const [titleA, titleB] = [String(a.title ?? id), String(b.title ?? id)];
    const svg = await renderSvg(overlaySpecs(a, b, c.a.runId, c.b.runId, id));
    figures.push({
      id,
      title: titleA === titleB ? titleA : `${id} of both runs`,
      caption:
        (titleA === titleB ? '' : `A: ${titleA}. B: ${titleB}. `) +
        `Run A (${c.a.runId}) and run B (${c.b.runId}) overlaid; the legend tells them apart.`,
      svg,
    });
  }
  return figures;
}

/**
 * Compare two finished runs of one experiment: returns the comparison and writes its page to
 * `dir/compare-<a>-vs-<b>.html` (checked to lie inside `dir`).
 */
export async function compareReport(
  store: ObjectStore,
  runA: string,
  runB: string,
  dir: string,
): Promise<{ comparison: RunComparison; report: string }> {
  const [a, b] = [await finishedResult(store, runA, 'A'), await finishedResult(store, runB, 'B')];
  const comparison = compareRuns(a, b);
  const file = pathInside(dir, `compare-${runA}-vs-${runB}.html`, `run ids '${runA}' and '${runB}'`);
  // A run of an experiment no longer registered still compares: its name stands for its title.
  const title = EXPERIMENTS.find((e) => e.name === a.experiment)?.title ?? a.experiment;
  const html = renderCompareHtml(comparison, title, await overlaidFigures(store, comparison));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, html);
  return { comparison, report: file };
}

export const compareCommand: CommandModule<GlobalArgs, CompareArgs> = {
  command: 'compare <run-a> <run-b>',
  describe: 'Compare two finished runs of one experiment: claims side by side, what differs, figures overlaid',
  builder: (y) =>
    y
      .positional('run-a', { type: 'string', demandOption: true, describe: 'a finished run (see `repro list`)' })
      .positional('run-b', { type: 'string', demandOption: true, describe: 'another run of the same experiment' })
      .option('out', {
        type: 'string',
        describe: 'folder to write the comparison page into (default: <dataDir>/reports)',
      }) as unknown as Argv<CompareArgs>,
  handler: async (argv) => {
    const [runA, runB] = [checkRunId(argv.runA), checkRunId(argv.runB)];
    const config = configFrom(argv);
    await checkS3(config);
    const dir = path.resolve(argv.out ?? path.join(config.dataDir, 'reports'));
    const { comparison, report } = await compareReport(makeObjectStore(config), runA, runB, dir);
    if (argv.json) printJson({ ...comparison, report });
    else print(`${formatComparison(comparison)}\nreport: ${report}`);
  },
};
