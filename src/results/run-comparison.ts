/**
 * Two finished runs of one experiment side by side (`repro compare`): each claim's measurement
 * and verdict in both, whether the verdict changed, the parameters that differ, and the code
 * version and backends where they differ. Pure: the CLI reads the results, this compares them.
 */
import { measurementText } from '../report/claim-text';
import type { Claim, Verdict } from './claims';
import type { RunResult } from './run-result';

/** The fields of a result a comparison reads (an index entry has them all). */
export type ComparedResult = Pick<
  RunResult,
  'runId' | 'experiment' | 'preset' | 'seed' | 'params' | 'backends' | 'claims' | 'codeVersion'
>;

/** One run's side of a claim: absent when the run has no claim of that id. */
export interface ClaimSide {
  measured: number;
  interval?: Claim['interval'];
  verdict: Verdict;
  /** The measurement in words, e.g. `0.012 [0.01, 0.014] (95%)`. */
  text: string;
}

export interface ClaimComparison {
  id: string;
  description: string;
  a?: ClaimSide;
  b?: ClaimSide;
  /** The verdicts differ, or the claim is in one run only. */
  changed: boolean;
}

/** A setting that differs between the runs, as each run has it (absent: the run lacks the key). */
export interface Difference {
  key: string;
  a?: unknown;
  b?: unknown;
}

export interface RunComparison {
  experiment: string;
  a: { runId: string; preset: string; seed: number; codeVersion: string; backends: string[] };
  b: { runId: string; preset: string; seed: number; codeVersion: string; backends: string[] };
  /** Claims in run a's order, then those that only run b has. */
  claims: ClaimComparison[];
  /** Parameters, then preset and seed, that differ. */
  differences: Difference[];
  /** Present when the code versions differ. */
  codeVersion?: { a: string; b: string };
  /** Present when the sets of numeric backends differ. */
  backends?: { a: string[]; b: string[] };
}

/** Runs of different experiments: their claims and parameters do not correspond; a usage mistake (exit status 2). */
export class ExperimentMismatchError extends Error {
  override name = 'ExperimentMismatchError';
}

const side = (c: Claim | undefined): ClaimSide | undefined =>
  c && {
    measured: c.measured,
    ...(c.interval ? { interval: c.interval } : {}),
    verdict: c.verdict,
    text: measurementText(c),
  };

const same = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);

/** Compare two results of the same experiment; {@link ExperimentMismatchError} when they are not. */
export function compareRuns(a: ComparedResult, b: ComparedResult): RunComparison {
  if (a.experiment !== b.experiment)
    throw new ExperimentMismatchError(
      `run ${a.runId} is of ${a.experiment} and run ${b.runId} of ${b.experiment}: ` +
        'compare two runs of one experiment (`repro list --experiment <name>` lists them)',
    );
  const ids = [...new Set([...a.claims, ...b.claims].map((c) => c.id))];
  const claims = ids.map((id): ClaimComparison => {
    const [ca, cb] = [a.claims.find((c) => c.id === id), b.claims.find((c) => c.id === id)];
    return {
      id,
      description: (ca ?? cb)!.description,
      ...(ca ? { a: side(ca) } : {}),
      ...(cb ? { b: side(cb) } : {}),
      changed: ca?.verdict !== cb?.verdict,
    };
  });
  const keys = [...new Set([...Object.keys(a.params), ...Object.keys(b.params)])];
  const differences: Difference[] = keys
    .filter((k) => !same(a.params[k], b.params[k]))
    .map((k) => ({ key: k, a: a.params[k], b: b.params[k] }));
  if (a.preset !== b.preset) differences.push({ key: 'preset', a: a.preset, b: b.preset });
  if (a.seed !== b.seed) differences.push({ key: 'seed', a: a.seed, b: b.seed });
  const sideOf = (r: ComparedResult): RunComparison['a'] => ({
    runId: r.runId,
    preset: r.preset,
    seed: r.seed,
    codeVersion: r.codeVersion,
    backends: r.backends,
  });
  return {
    experiment: a.experiment,
    a: sideOf(a),
    b: sideOf(b),
    claims,
    differences,
    ...(a.codeVersion !== b.codeVersion ? { codeVersion: { a: a.codeVersion, b: b.codeVersion } } : {}),
    ...(!same([...a.backends].sort(), [...b.backends].sort()) ? { backends: { a: a.backends, b: b.backends } } : {}),
  };
}

/** A setting's value in words: vectors comma-separated, a missing key as `(unset)`. */
export function settingText(v: unknown): string {
  if (v === undefined) return '(unset)';
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/** The comparison as text: claims side by side with a marker where the verdict changed, then what differs. */
export function formatComparison(c: RunComparison): string {
  const cell = (s: ClaimSide | undefined): string => (s ? `[${s.verdict}] ${s.text}` : '(no such claim)');
  const lines = [
    `compare ${c.experiment}: A ${c.a.runId} with B ${c.b.runId}`,
    'claims:',
    ...c.claims.map(
      (k) =>
        `  ${k.changed ? '*' : ' '} ${k.id}: A ${cell(k.a)} | B ${cell(k.b)}` +
        (k.changed ? `  (verdict changed: ${k.a?.verdict ?? 'none'} → ${k.b?.verdict ?? 'none'})` : ''),
    ),
    ...(c.differences.length
      ? [
          'parameters that differ:',
          ...c.differences.map((d) => `  ${d.key}: ${settingText(d.a)} → ${settingText(d.b)}`),
        ]
      : ['parameters: the same']),
    ...(c.codeVersion ? [`code version: ${c.codeVersion.a} → ${c.codeVersion.b}`] : []),
    ...(c.backends ? [`backends: ${c.backends.a.join(', ')} → ${c.backends.b.join(', ')}`] : []),
  ];
  return lines.join('\n');
}
