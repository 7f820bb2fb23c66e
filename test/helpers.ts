/** Shared test helpers: config of the test stack, worker processes, the CLI as a user runs it. */
import { execFile, spawn, spawnSync, type ChildProcess } from 'child_process';
import { randomUUID } from 'crypto';
import * as path from 'path';
import { loadConfig } from '../infra/load-config';
import type { ReproConfig } from '../temporal.config';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'infra', 'cli', 'main.js');

/** The test stack's config (from the REPRO_* variables set by run-tests), with overrides. */
export function testConfig(conf: Record<string, string> = {}): ReproConfig {
  return loadConfig({ conf: Object.entries(conf).map(([k, v]) => `${k}=${v}`) });
}

/** A task queue pair of its own, so tests never see each other's workers. */
export function uniqueQueues(): Record<string, string> {
  const id = randomUUID().slice(0, 8);
  return { 'taskQueues.cpu': `test-cpu-${id}`, 'taskQueues.gpu': `test-gpu-${id}` };
}

export function confArgs(conf: Record<string, string>): string[] {
  return Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]);
}

/** Run the CLI to completion. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Run the CLI without blocking this process: for tests that serve something in-process (workers,
 * a TLS front) which the command needs while it runs.
 */
export function runCliAsync(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

export interface WorkerProcess {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  /** Resolves with the first event matching `pred` (already seen or future). */
  waitFor(pred: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/**
 * Start `repro worker` as its own process and collect its JSON-lines log; with `netns`, inside
 * that network namespace (`ip netns exec` execs node in place, so the pid is the worker's).
 */
export function startWorker(
  conf: Record<string, string>,
  extraEnv: NodeJS.ProcessEnv = {},
  netns?: string,
): WorkerProcess {
  const argv = [CLI, 'worker', ...confArgs(conf)];
  const [command, args] = netns
    ? ['ip', ['netns', 'exec', netns, process.execPath, ...argv]]
    : [process.execPath, argv];
  const child = spawn(command, args, { env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<{
    pred: (e: Record<string, unknown>) => boolean;
    resolve: (e: Record<string, unknown>) => void;
  }> = [];
  let buffer = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(line);
      } catch {
        continue;
      }
      events.push(e);
      for (const w of [...waiters])
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
    }
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    events,
    exited,
    waitFor(pred, timeoutMs = 60_000) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `worker event not seen in ${timeoutMs} ms; events: ${JSON.stringify(events.slice(-5))}; ` +
                  `stderr: ${stderr.slice(-500)}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
