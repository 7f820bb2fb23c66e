import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { ConfigError } from '../../temporal.config';
import { LOOPBACK, type ProcessPorts } from './pod-metrics';

/** How a child worker process is started: `node <args>` with these variables added to the parent's. */
export interface ChildSpec {
  args: string[];
  env: Record<string, string>;
}

/** The flags every child worker gets from its parent's command line. */
export interface ParentFlags {
  config?: string;
  backend?: string;
  conf?: string[];
}

/**
 * The devices N GPU workers pin, one each: the parent's `CUDA_VISIBLE_DEVICES` entries (indices,
 * `GPU-…` UUIDs or `MIG-…` UUIDs) in order, else 0..N-1; a ConfigError when fewer are visible than N.
 */
export function assignDevices(visible: string | undefined, n: number): string[] {
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`worker.gpus ${n}: must be a positive integer`);
  if (visible === undefined) return Array.from({ length: n }, (_, i) => String(i));
  const devices = visible
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  // CUDA stops at the first entry it cannot parse (a `-1` hides every device): count up to there.
  const bad = devices.findIndex((d) => !/^(\d+|GPU-[0-9a-fA-F-]+|MIG-[0-9a-zA-Z/-]+)$/.test(d));
  const usable = bad < 0 ? devices : devices.slice(0, bad);
  if (usable.length < n)
    throw new ConfigError(
      `worker.gpus ${n}: CUDA_VISIBLE_DEVICES="${visible}" shows ${usable.length} device(s)` +
        (bad >= 0 ? ` (CUDA ignores "${devices[bad]}" and what follows)` : '') +
        `; set REPRO_WORKER_GPUS (--gpus) to at most ${usable.length}, or request more GPUs for this pod`,
    );
  return usable.slice(0, n);
}

/**
 * The command lines of GPU worker processes, one per device: each serves the gpu queue's activities,
 * one at a time (one gpu slot), on `threads` torch threads, sees only its own device, and starts no
 * children of its own. Each serves its metrics on loopback ports of its own (`ports[i]`), which the
 * parent collects and serves on the pod's ports (pod-metrics.ts): n processes on one port would collide.
 */
export function gpuWorkerPlan(
  devices: string[],
  threads: number,
  flags: ParentFlags,
  ports: readonly ProcessPorts[],
): ChildSpec[] {
  return devices.map((device, i) => ({
    args: workerArgs(flags, [
      `torch.threads=${threads}`,
      'worker.gpus=0',
      // The parent keeps the pod's deletion cost, summed over its processes.
      'worker.podDeletionCost=false',
      `worker.metricsHost=${LOOPBACK}`,
      `worker.metricsPort=${ports[i]?.metricsPort ?? 0}`,
      `worker.sdkMetricsPort=${ports[i]?.sdkMetricsPort ?? 0}`,
    ]),
    env: { CUDA_VISIBLE_DEVICES: device },
  }));
}

/** `repro worker --queue gpu --activities-only` with the parent's flags, one gpu slot and `conf` on top. */
export function workerArgs(flags: ParentFlags, conf: string[]): string[] {
  return [
    path.resolve(__dirname, '..', 'cli', 'main.js'),
    'worker',
    '--queue',
    'gpu',
    '--activities-only',
    ...(flags.config ? ['--config', flags.config] : []),
    ...(flags.backend ? ['--backend', flags.backend] : []),
    ...[...(flags.conf ?? []), 'worker.gpuSlots=1', ...conf].flatMap((c) => ['--conf', c]),
  ];
}

export interface ChildWorkers {
  /**
   * SIGTERM to every child, then wait for all to exit (their activities checkpoint first) and for
   * their last output to reach the log.
   */
  stop(): Promise<void>;
  /** Rejects once a child has died more than `restarts` times: the set can no longer serve all its devices. */
  failed: Promise<never>;
}

/**
 * Starts one process per spec and keeps it running: one that dies is started again with the same
 * spec (its device; its activities go on from their checkpoints), `restarts` times per spec at most.
 */
export function startChildWorkers(
  specs: ChildSpec[],
  log: (text: string, stream: 'stdout' | 'stderr') => void,
  restarts = 3,
): ChildWorkers {
  const children = new Set<ChildProcess>();
  // Each child until its output is all read: 'exit' can come before the last lines of a pipe.
  const closing = new Set<Promise<void>>();
  let stopping = false;
  let fail!: (err: Error) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  const start = (spec: ChildSpec, index: number, left: number): void => {
    const child = spawn(process.execPath, spec.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...spec.env },
    });
    children.add(child);
    const closed: Promise<void> = new Promise((r) => child.once('close', () => r()));
    closing.add(closed);
    void closed.then(() => closing.delete(closed));
    child.stdout!.on('data', (b: Buffer) => log(b.toString(), 'stdout'));
    child.stderr!.on('data', (b: Buffer) => log(b.toString(), 'stderr'));
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (stopping) return;
      log(
        JSON.stringify({
          ts: new Date().toISOString(),
          event: 'child-worker-exited',
          index,
          ...spec.env,
          code,
          signal,
        }) + '\n',
        'stdout',
      );
      if (left > 0) start(spec, index, left - 1);
      else {
        const env = Object.entries(spec.env).map(([k, v]) => ` ${k}=${v}`);
        const last = signal ?? `code ${code}`;
        fail(
          new Error(
            `child worker ${index}${env.join('')} exited ${restarts + 1} times (last: ${last}); its errors are above`,
          ),
        );
      }
    });
  };
  specs.forEach((spec, i) => start(spec, i, restarts));
  return {
    failed,
    async stop() {
      stopping = true;
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await Promise.all([...closing]);
    },
  };
}
