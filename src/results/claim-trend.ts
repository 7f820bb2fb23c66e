/**
 * A series of runs as per-claim trends: each claim's verdict and measured value (with its
 * interval) in every run of the series, oldest first. A series is a schedule's runs, or the runs
 * started by hand of one experiment, preset and parameters (a `--set` makes another series).
 * Pure: the index and the run report read the results, this groups them.
 */
import { measurementText } from '../report/claim-text';
import { scheduledTimeOfRun } from '../runs/ids';
import type { Claim, Verdict } from './claims';
import type { RunResult } from './run-result';

/** The fields of a result a trend reads (an index entry has them all). */
export type TrendedResult = Pick<
  RunResult,
  'runId' | 'experiment' | 'preset' | 'params' | 'claims' | 'finishedAt' | 'schedule'
>;

/**
 * The most runs a trend shows, a series' newest: bounds what a run's report reads from the index
 * and the size of every trend table and figure.
 */
export const TREND_RUNS = 30;

/** One run's value of a claim. */
export interface TrendPoint {
  runId: string;
  /** When the schedule started the run (RFC 3339), or when a run started by hand finished. */
  time: string;
  verdict: Verdict;
  measured: number;
  interval?: Claim['interval'];
  /** The measurement in words, e.g. `0.012 [0.01, 0.014] (95%)`. */
  text: string;
}

/** One claim across the runs of a series. */
export interface ClaimTrend {
  id: string;
  description: string;
  /** The newest run's claim: what the trend is read against. */
  latest: Claim;
  /** One per run that has the claim, oldest first. */
  points: TrendPoint[];
}

export interface RunSeries {
  /** Unique among series: `schedule:<id>`, or `runs:` and the experiment, preset and parameters. */
  key: string;
  experiment: string;
  preset: string;
  /** The schedule whose runs these are; absent for runs started by hand. */
  schedule?: string;
  /** For runs by hand: the parameters (`key=value`) that tell this series from others of its experiment and preset. */
  distinguishing: string[];
  /** The newest {@link TREND_RUNS} runs, oldest first. */
  runs: Array<{ runId: string; time: string }>;
  /** How many older runs the series has beyond them. */
  omitted: number;
  /** The newest run's claims in its order, then claims that only older runs have. */
  claims: ClaimTrend[];
}

const timeOf = (r: TrendedResult): string => scheduledTimeOfRun(r.runId) ?? r.finishedAt;
const byTime = (a: TrendedResult, b: TrendedResult): number =>
  timeOf(a).localeCompare(timeOf(b)) || a.runId.localeCompare(b.runId);
const paramText = (v: unknown): string => (Array.isArray(v) ? v.join(',') : String(v));

function seriesKey(r: TrendedResult): string {
  return r.schedule !== undefined
    ? `schedule:${r.schedule}`
    : `runs:${JSON.stringify([r.experiment, r.preset, r.params])}`;
}

function claimTrends(runs: readonly TrendedResult[]): ClaimTrend[] {
  const trends = new Map<string, ClaimTrend>();
  for (const r of [...runs].reverse()) {
    for (const c of r.claims) {
      if (!trends.has(c.id)) trends.set(c.id, { id: c.id, description: c.description, latest: c, points: [] });
    }
  }
  for (const r of runs) {
    for (const c of r.claims) {
      trends.get(c.id)!.points.push({
        runId: r.runId,
        time: timeOf(r),
        verdict: c.verdict,
        measured: c.measured,
        ...(c.interval ? { interval: c.interval } : {}),
        text: measurementText(c),
      });
    }
  }
  return [...trends.values()];
}

/** For a series of runs by hand: the parameters whose values differ among the series of its experiment and preset. */
function distinguishing(groups: ReadonlyArray<readonly TrendedResult[]>, mine: TrendedResult): string[] {
  if (mine.schedule !== undefined) return [];
  const peers = groups
    .map((g) => g[0]!)
    .filter((r) => r.schedule === undefined && r.experiment === mine.experiment && r.preset === mine.preset);
  const keys = [...new Set(peers.flatMap((r) => Object.keys(r.params)))].sort();
  return keys
    .filter((k) => new Set(peers.map((r) => JSON.stringify(r.params[k]))).size > 1)
    .map((k) => `${k}=${k in mine.params ? paramText(mine.params[k]) : '(unset)'}`);
}

/**
 * The results grouped into series, each with its runs oldest first (the newest
 * {@link TREND_RUNS}) and every claim's trend; series in order of their newest run, newest first.
 */
export function runSeries(results: readonly TrendedResult[]): RunSeries[] {
  const groups = new Map<string, TrendedResult[]>();
  for (const r of results) {
    const k = seriesKey(r);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const all = [...groups.values()].map((g) => [...g].sort(byTime));
  return all
    .map((sorted): RunSeries => {
      const runs = sorted.slice(-TREND_RUNS);
      const newest = runs.at(-1)!;
      return {
        key: seriesKey(newest),
        experiment: newest.experiment,
        preset: newest.preset,
        ...(newest.schedule !== undefined ? { schedule: newest.schedule } : {}),
        distinguishing: distinguishing(all, newest),
        runs: runs.map((r) => ({ runId: r.runId, time: timeOf(r) })),
        omitted: sorted.length - runs.length,
        claims: claimTrends(runs),
      };
    })
    .sort((a, b) => b.runs.at(-1)!.time.localeCompare(a.runs.at(-1)!.time) || a.key.localeCompare(b.key));
}

/** A series in words: `schedule nightly-fig7 (fig7, preset quick)` or `fig7, preset quick, steps=2000`. */
export function seriesTitle(s: RunSeries): string {
  const what = [`${s.experiment}, preset ${s.preset}`, ...s.distinguishing].join(', ');
  return s.schedule !== undefined ? `schedule ${s.schedule} (${what})` : `${what} (runs started by hand)`;
}
