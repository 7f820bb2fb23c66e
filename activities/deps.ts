import type { ReproConfig } from '../temporal.config';
import type { ObjectStore } from '../src/storage/object-store';

/** Structured log events; the worker prints them as JSON lines (tests read them). */
export type LogEvent = Record<string, unknown> & { event: string };

/** Everything activities need from the process that hosts them. */
export interface ActivityDeps {
  store: ObjectStore;
  config: ReproConfig;
  /** Aborted when the worker is asked to stop (SIGTERM/SIGINT): checkpoint and yield. */
  stopping: AbortSignal;
  log: (e: LogEvent) => void;
  /** Identifies the code that computed a result (package version + git commit). */
  codeVersion: string;
}

/** Key layout in the store; documented in the README. */
export const keys = {
  run: (runId: string) => `runs/${runId}/`,
  checkpoints: (runId: string, track: string) => `runs/${runId}/checkpoints/${track}/`,
  artifact: (runId: string, name: string) => `runs/${runId}/artifacts/${name}`,
  result: (runId: string) => `runs/${runId}/result.json`,
  /** One small object per finished run (its result without bulky rows), for the report index. */
  indexEntry: (runId: string) => `index/runs/${runId}.json`,
  indexPrefix: 'index/runs/',
};
