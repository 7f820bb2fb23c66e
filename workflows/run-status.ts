import { patched, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { runVerdict } from '../src/results/claims';
import type { RunResult } from '../src/results/run-result';
import { markProgress, type Progress } from './progress';
import { SA } from './search-attributes';

/**
 * What a running workflow tells the Web UI: its stage, backend and verdict as search attributes
 * (few upserts: one per stage), and its progress as current details (no history events).
 * Histories recorded before the attributes existed replay without the upserts (`patched`).
 */
const PATCH = 'repro-search-attributes-v1';

function upsert(pairs: Parameters<typeof upsertSearchAttributes>[0]): void {
  if (patched(PATCH)) upsertSearchAttributes(pairs);
}

export function markStage(stage: string): void {
  upsert([{ key: SA.stage, value: stage }]);
}

export function markBackend(backend: string | undefined): void {
  if (backend) upsert([{ key: SA.backend, value: backend }]);
}

/** The run's verdict ({@link runVerdict}) and stage `done`. */
export function markDone(result: RunResult): RunResult {
  const backend = result.backends[0] ? [{ key: SA.backend, value: result.backends[0] }] : [];
  upsert([{ key: SA.stage, value: 'done' }, { key: SA.verdict, value: runVerdict(result.claims) }, ...backend]);
  return result;
}

/** Progress as the workflow's current details: one line per part, `name: step/of`. */
export function showProgress(progress: Progress, head?: string): void {
  markProgress(progress);
  const lines = Object.entries(progress).map(([name, p]) => `${name}: ${p.step}/${p.of}`);
  setCurrentDetails([...(head ? [head] : []), ...lines].join('\n'));
}
