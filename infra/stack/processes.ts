import { spawn } from 'child_process';
import * as os from 'os';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as net from 'net';
import * as path from 'path';

/** A background server of the embedded stack, tracked by a pid file in the data folder. */
export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  dataDir: string;
}

export function pidFile(dataDir: string, name: string): string {
  return path.join(dataDir, `${name}.pid`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid recorded for a daemon if that process is still alive. */
export function runningPid(dataDir: string, name: string): number | undefined {
  const file = pidFile(dataDir, name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** Start a detached daemon (own session, logs to `<dataDir>/<name>.log`) and record its pid. */
export function startDaemon(spec: DaemonSpec): number {
  mkdirSync(spec.dataDir, { recursive: true });
  const log = openSync(path.join(spec.dataDir, `${spec.name}.log`), 'a');
  const child = spawn(spec.command, spec.args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...spec.env },
  });
  closeSync(log);
  child.unref();
  writeFileSync(pidFile(spec.dataDir, spec.name), String(child.pid));
  return child.pid!;
}

/** `signal` (SIGTERM), then SIGKILL after `graceMs`. Resolves when the process is gone. */
export async function stopDaemon(
  dataDir: string,
  name: string,
  graceMs = 10_000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<boolean> {
  const pid = runningPid(dataDir, name);
  rmSync(pidFile(dataDir, name), { force: true });
  if (pid === undefined) return false;
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
  return true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True if something accepts TCP connections at host:port. */
export function portOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Poll `check` until it resolves true or the deadline passes; then throw with `what`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  logFile?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  const tail =
    logFile && existsSync(logFile)
      ? ` Last log lines: ${readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ')}`
      : '';
  throw new Error(`${what} did not come up within ${Math.round(timeoutMs / 1000)} s.${tail}`);
}

/** Split `host:port` or a URL into host and port. */
export function hostPort(address: string, defaultPort: number): { host: string; port: number } {
  const url = /^[a-z]+:\/\//.test(address) ? new URL(address) : new URL(`tcp://${address}`);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : defaultPort };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1';
}

/** A loopback name or an address of one of this machine's interfaces: somewhere `up` can listen. */
export function isThisMachine(host: string): boolean {
  return (
    isLoopback(host) || Object.values(os.networkInterfaces()).some((list) => list?.some((i) => i.address === host))
  );
}
