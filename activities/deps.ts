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
