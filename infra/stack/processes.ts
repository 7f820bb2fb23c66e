import { spawn, spawnSync } from 'child_process';
import * as os from 'os';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as net from 'net';
import * as path from 'path';
import { SCHEMA, SECRET_CONFIG_KEYS } from '../../temporal.config';

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

/**
 * What tells a process from a later one that reuses its pid: its start time (clock ticks since
 * boot on Linux, `ps`'s lstart elsewhere); with its command line. Undefined when no such process.
 */
export interface ProcessIdentity {
  pid: number;
  started: string;
  command: string;
}

export function processIdentity(pid: number): ProcessIdentity | undefined {
  if (existsSync('/proc/self/stat')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields 3 (state) and 22 (starttime), counted after the command name, which may hold spaces
      // and parentheses. A zombie has exited: nothing to signal.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') return undefined;
      const started = fields[19] ?? '';
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      return { pid, started, command };
    } catch {
      return undefined;
    }
  }
  const ps = (field: string): string =>
    spawnSync('ps', ['-o', `${field}=`, '-p', String(pid)], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const started = ps('lstart');
  return started ? { pid, started, command: ps('command') } : undefined;
}

/**
 * The pid file's process if it is still the daemon that `startDaemon` recorded: alive, with the
 * recorded start time (a server may retitle itself, so the command line is kept for reading, not
 * compared). A pid the system has since given to another process is not ours, and is never
 * signalled. (A pid file of an older repro holds the pid alone: its process counts as ours only
 * if its command line names the data folder, as every daemon's does.)
 */
export function runningDaemon(dataDir: string, name: string): ProcessIdentity | undefined {
  const file = pidFile(dataDir, name);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8').trim();
  let recorded: Partial<ProcessIdentity>;
  try {
    recorded = /^\d+$/.test(text) ? { pid: Number(text) } : (JSON.parse(text) as Partial<ProcessIdentity>);
  } catch {
    return undefined;
  }
  const pid = recorded.pid;
  if (!Number.isInteger(pid) || pid! <= 0) return undefined;
  const now = processIdentity(pid!);
  if (!now) return undefined;
  const same = recorded.started === undefined ? now.command.includes(dataDir) : now.started === recorded.started;
  return same ? now : undefined;
}

/** The pid of a daemon of this data folder that is still running (see {@link runningDaemon}). */
export function runningPid(dataDir: string, name: string): number | undefined {
  return runningDaemon(dataDir, name)?.pid;
}

/**
 * Environment variables that may hold secrets, by name: never handed to the servers the stack
 * starts (the Temporal dev server, MinIO), which need none of them. Besides the generic
 * patterns, every variable of a secret config key (`SECRET_CONFIG_KEYS`).
 */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|CODEC_KEY|PRIVATE|CREDENTIAL/i;
const SECRET_ENV = new Set(SECRET_CONFIG_KEYS.flatMap((key) => SCHEMA[key]!.env));

/** The parent's environment without its secrets, plus `extra` (a server's own settings). */
export function scrubbedEnv(extra: Record<string, string> = {}, env = process.env): NodeJS.ProcessEnv {
  const kept = Object.entries(env).filter(([k]) => !SECRET_NAME.test(k) && !SECRET_ENV.has(k));
  return { ...Object.fromEntries(kept), ...extra };
}

/**
 * Start a detached daemon (own session, logs to `<dataDir>/<name>.log`, the parent's environment
 * without secrets plus `spec.env`) and record its pid, start time and command line.
 */
export function startDaemon(spec: DaemonSpec): number {
  mkdirSync(spec.dataDir, { recursive: true });
  const log = openSync(path.join(spec.dataDir, `${spec.name}.log`), 'a');
  const child = spawn(spec.command, spec.args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: scrubbedEnv(spec.env),
  });
  closeSync(log);
  child.unref();
  // spawn returns once the child has exec'd, so its command line is the daemon's own.
  const identity = processIdentity(child.pid!) ?? { pid: child.pid!, started: '', command: '' };
  writeFileSync(pidFile(spec.dataDir, spec.name), JSON.stringify(identity) + '\n');
  return child.pid!;
}

/**
 * `signal` (SIGTERM), then SIGKILL after `graceMs`, to the daemon the pid file records, if it is
 * still that process. Resolves when it is gone; false when it was not running.
 */
export async function stopDaemon(
  dataDir: string,
  name: string,
  graceMs = 10_000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<boolean> {
  const daemon = runningDaemon(dataDir, name);
  rmSync(pidFile(dataDir, name), { force: true });
  if (daemon === undefined) return false;
  const stillIt = (): boolean => processIdentity(daemon.pid)?.started === daemon.started;
  process.kill(daemon.pid, signal);
  const deadline = Date.now() + graceMs;
  while (stillIt() && Date.now() < deadline) await sleep(100);
  if (stillIt()) process.kill(daemon.pid, 'SIGKILL');
  while (stillIt()) await sleep(50);
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
  let lastError = '';
  while (Date.now() < deadline) {
    const ok = await check().catch((err: Error) => {
      lastError = ` Last error: ${err.message.split('\n')[0]}.`;
      return false;
    });
    if (ok) return;
    await sleep(250);
  }
  const tail =
    logFile && existsSync(logFile)
      ? ` Last log lines: ${readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ')}`
      : '';
  throw new Error(`${what} did not come up within ${Math.round(timeoutMs / 1000)} s.${lastError}${tail}`);
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
