import { spawn } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import type { Argv, CommandModule } from 'yargs';
import { checkRunId } from '../../../src/runs/ids';
import { layout } from '../../../src/storage/layout';
import { localReportHref, renderIndexHtml } from '../../../src/report/html-report';
import { renderTrendFigures, trendHtml } from '../../../src/report/trend-report';
import { runSeries } from '../../../src/results/claim-trend';
import type { RunResult } from '../../../src/results/run-result';
import { ObjectNotFoundError, type ObjectStore } from '../../../src/storage/object-store';
import { checkS3, makeObjectStore } from '../../clients';
import { pathInside } from '../paths-inside';
import { configFrom, print, printJson, UsageError, type GlobalArgs } from '../context';

interface ReportArgs extends GlobalArgs {
  runId?: string;
  out?: string;
  open: boolean;
  index: boolean;
}

/** What a run's report download writes: each S3 key's file, all checked to lie inside the folder first. */
interface ReportPlan {
  result: RunResult;
  folder: string;
  files: Array<{ key: string; file: string }>;
}

async function planReport(store: ObjectStore, runId: string, dir: string, source: string): Promise<ReportPlan> {
  let result: RunResult;
  try {
    result = JSON.parse(Buffer.from(await store.get(layout.indexEntry(runId))).toString('utf8')) as RunResult;
  } catch (err) {
    if (err instanceof ObjectNotFoundError)
      throw new Error(
        `run '${runId}' has no report yet: it is still running, failed, or does not exist (\`repro status ${runId}\`)`,
      );
    throw err;
  }
  const folder = pathInside(dir, runId, source);
  const prefix = layout.artifactsPrefix(runId);
  const files = (await store.list(prefix)).map((key) => ({
    key,
    file: pathInside(folder, key.slice(prefix.length), key),
  }));
  return { result, folder, files };
}

async function writeReport(store: ObjectStore, plan: ReportPlan): Promise<string> {
  mkdirSync(plan.folder, { recursive: true });
  for (const { key, file } of plan.files) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, await store.get(key));
  }
  writeFileSync(path.join(plan.folder, 'result.json'), JSON.stringify(plan.result, null, 2));
  return path.join(plan.folder, 'report.html');
}

/**
 * Copy a finished run's report and artifacts from S3 into `dir/<runId>/`; returns the report's
 * path. Every file is checked to lie inside `dir` before the first is written.
 */
export async function downloadReport(store: ObjectStore, runId: string, dir: string): Promise<string> {
  return await writeReport(store, await planReport(store, runId, dir, `run id '${runId}'`));
}

/**
 * Write the index of every finished run (and their reports) into `dir`, with the per-claim trend
 * of every series of two or more runs (a schedule's; by hand, one experiment, preset and
 * parameters); also stored in S3 as `index/index.html`, whose links name the reports' keys
 * (`runs/<id>/artifacts/report.html`) relative to its own. The run ids come from the index
 * entries' contents: every file of every report is checked to lie inside `dir` before the first
 * is written.
 */
export async function writeReportIndex(store: ObjectStore, dir: string): Promise<{ path: string; runs: number }> {
  const plans: ReportPlan[] = [];
  const entries: RunResult[] = [];
  for (const key of await store.list(layout.indexPrefix)) {
    if (!key.endsWith('.json')) continue;
    const r = JSON.parse(Buffer.from(await store.get(key)).toString('utf8')) as RunResult;
    entries.push(r);
    plans.push(await planReport(store, r.runId, dir, `run id '${r.runId}' of index entry ${key}`));
  }
  for (const plan of plans) await writeReport(store, plan);
  const results = plans.map((p) => p.result);
  const series = runSeries(results).filter((s) => s.runs.length >= 2);
  const figures = await Promise.all(series.map((s, n) => renderTrendFigures(s, n)));
  const page = (href: (runId: string) => string | undefined): string =>
    renderIndexHtml(results, {
      reportHref: href,
      trends: series.map((s, n) => trendHtml(s, figures[n]!, { href, heading: 'h3' })).join('\n'),
    });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'index.html'), page(localReportHref));
  // The stored index links only reports the bucket holds: a run's result names its report among
  // its artifacts (an index entry without one, e.g. a run whose report was never written, is listed).
  const reported = new Set(entries.filter((r) => r.artifacts?.report).map((r) => r.runId));
  const stored = page((runId) =>
    reported.has(runId) ? layout.linkFrom(layout.indexPage, layout.artifact(runId, 'report.html')) : undefined,
  );
  await store.put(layout.indexPage, Buffer.from(stored), 'text/html; charset=utf-8');
  return { path: path.join(dir, 'index.html'), runs: plans.length };
}

function openInBrowser(file: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [file], { detached: true, stdio: 'ignore' });
  child.on('error', () => process.stderr.write(`could not start ${opener}; open ${file} yourself\n`));
  child.unref();
}

export const reportCommand: CommandModule<GlobalArgs, ReportArgs> = {
  command: 'report [run-id]',
  describe: "Write a run's HTML report (figures inline, no scripts) to a folder, or with --index the index of all runs",
  builder: (y) =>
    y
      .positional('run-id', { type: 'string', describe: 'a finished run (see `repro list`)' })
      .option('out', { type: 'string', describe: 'folder to write into (default: <dataDir>/reports)' })
      .option('open', { type: 'boolean', default: false, describe: 'open the page in the default browser' })
      .option('index', {
        type: 'boolean',
        default: false,
        describe: 'write index.html of every finished run, with their reports',
      }) as unknown as Argv<ReportArgs>,
  handler: async (argv) => {
    if (argv.runId !== undefined) checkRunId(argv.runId);
    if (!argv.index && !argv.runId)
      throw new UsageError('name a run (`repro report <run-id>`) or ask for the index (`repro report --index`)');
    const config = configFrom(argv);
    await checkS3(config);
    const store = makeObjectStore(config);
    const dir = path.resolve(argv.out ?? path.join(config.dataDir, 'reports'));
    const file = argv.index ? (await writeReportIndex(store, dir)).path : await downloadReport(store, argv.runId!, dir);
    if (argv.json) printJson({ report: file });
    else print(file);
    if (argv.open) openInBrowser(file);
  },
};
