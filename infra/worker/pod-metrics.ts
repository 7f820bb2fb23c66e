/**
 * The pod's metrics endpoint under `repro worker --gpus N`: every worker process (one per GPU, and
 * this one where it serves the cpu queue too) serves its metrics on loopback ports of its own, and
 * this process serves them merged on the pod's ports (worker.metricsPort: repro's, with `/healthz`
 * and `/readyz` over all of them; worker.sdkMetricsPort: the Temporal SDK's), so a scrape, KEDA's
 * busy-slot query and the probes see all N processes, not one.
 */
import * as net from 'net';
import { Gauge, Registry } from 'prom-client';
import { combineHealth, mergeExpositions, type PartHealth, type PodHealth } from './metrics-merge';
import { METRICS_PORT, SDK_METRICS_PORT, serveMetrics, type MetricsServer } from './metrics-server';

/** The address worker processes serve their own metrics on, for this process to collect. */
export const LOOPBACK = '127.0.0.1';

/** Where one worker process serves its metrics (0: not served). */
export interface ProcessPorts {
  metricsPort: number;
  sdkMetricsPort: number;
}

/** One worker process of the pod: where it serves and the labels its series get. */
export interface PodPart extends ProcessPorts {
  /** For reasons: `gpu worker 1 (CUDA_VISIBLE_DEVICES=GPU-…)`. */
  name: string;
  labels: Record<string, string>;
}

/** `n` ports free on loopback now, distinct (all held open until each is known). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer().listen(0, LOOPBACK, () => resolve(s));
          s.on('error', reject);
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/**
 * The pod's worker processes: one per device (its series labelled `device`), then this process's
 * own cpu worker where it serves the cpu queue (unlabelled), each on loopback ports of its own
 * where the pod serves that port (`pod`'s non-zero ports).
 */
export async function podParts(devices: readonly string[], cpuHere: boolean, pod: ProcessPorts): Promise<PodPart[]> {
  const n = devices.length + (cpuHere ? 1 : 0);
  // One call: ports found in two would not be sure to differ.
  const free = await freePorts(2 * n);
  const ports = (i: number): ProcessPorts => ({
    metricsPort: pod.metricsPort > 0 ? free[2 * i]! : 0,
    sdkMetricsPort: pod.sdkMetricsPort > 0 ? free[2 * i + 1]! : 0,
  });
  return [
    ...devices.map((device, i) => ({
      name: `gpu worker ${i} (CUDA_VISIBLE_DEVICES=${device})`,
      labels: { device },
      ...ports(i),
    })),
    ...(cpuHere ? [{ name: 'cpu worker', labels: {}, ...ports(devices.length) }] : []),
  ];
}

/** Just a part's ports (for the config of the process that serves them). */
export const portsOf = (p: ProcessPorts): ProcessPorts => ({
  metricsPort: p.metricsPort,
  sdkMetricsPort: p.sdkMetricsPort,
});

type Answer =
  { ok: true; status: number; body: string } | { ok: false; silent: 'refused' | 'timeout' | 'error'; detail: string };

async function get(port: number, path: string, timeoutMs: number): Promise<Answer> {
  try {
    const r = await fetch(`http://${LOOPBACK}:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    return { ok: true, status: r.status, body: await r.text() };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError') return { ok: false, silent: 'timeout', detail: `no answer in ${timeoutMs} ms` };
    const code = e.cause?.code;
    return code === 'ECONNREFUSED'
      ? { ok: false, silent: 'refused', detail: `port ${port} refused` }
      : { ok: false, silent: 'error', detail: code ?? e.message };
  }
}

/** The pod's own series: its worker processes that answered this scrape, and those that did not. */
async function processesText(answering: number, silent: number): Promise<string> {
  const registry = new Registry();
  const processes = new Gauge({
    name: 'repro_worker_processes',
    help: "This pod's worker processes, by whether they answered this scrape (silent: starting, restarting or hung).",
    labelNames: ['state'] as const,
    registers: [registry],
  });
  processes.set({ state: 'answering' }, answering);
  processes.set({ state: 'silent' }, silent);
  return registry.metrics();
}

export interface PodMetricsOptions {
  host: string;
  /** The pod's ports (worker.metricsPort, worker.sdkMetricsPort); 0: not served. */
  metricsPort: number;
  sdkMetricsPort: number;
  stallSeconds: number;
  /** How long a process has to answer; below the probes' timeouts (the chart's: 5 and 10 s). */
  timeoutMs?: number;
}

export interface PodMetricsServers {
  /** The ports listened on (0: not served). */
  port: number;
  sdkPort: number;
  /** The pod's health over every process, as `/healthz` serves it (its `inFlight`: the pod's activities). */
  health(): Promise<PodHealth>;
  close(): Promise<void>;
}

/**
 * Serve the pod's merged metrics (and health) on `opts`' ports. A process that does not answer a
 * scrape is left out of it, and `repro_worker_processes{state}` counts those that answered and not.
 */
export async function servePodMetrics(parts: readonly PodPart[], opts: PodMetricsOptions): Promise<PodMetricsServers> {
  const timeoutMs = opts.timeoutMs ?? 4000;
  const contentType = Registry.PROMETHEUS_CONTENT_TYPE;
  const collect = async (port: (p: PodPart) => number, own: boolean): Promise<string> => {
    const served = parts.filter((p) => port(p) > 0);
    const answers = await Promise.all(served.map((p) => get(port(p), '/metrics', timeoutMs)));
    const texts = served.flatMap((p, i) => {
      const a = answers[i]!;
      return a.ok && a.status === 200 ? [{ labels: p.labels, text: a.body }] : [];
    });
    if (own) texts.push({ labels: {}, text: await processesText(texts.length, served.length - texts.length) });
    return mergeExpositions(texts);
  };
  const health = async (): Promise<PodHealth> => {
    const served = parts.filter((p) => p.metricsPort > 0);
    const answers = await Promise.all(served.map((p) => get(p.metricsPort, '/healthz', timeoutMs)));
    const seen = served.map((p, i): PartHealth => {
      const a = answers[i]!;
      if (!a.ok) return { name: p.name, silent: a.silent, detail: a.detail };
      try {
        return { name: p.name, verdict: JSON.parse(a.body) };
      } catch {
        return { name: p.name, silent: 'error', detail: `HTTP ${a.status}, not JSON` };
      }
    });
    return combineHealth(seen, opts.stallSeconds, timeoutMs);
  };
  const servers: MetricsServer[] = [];
  try {
    const own =
      opts.metricsPort > 0
        ? await serveMetrics(
            { contentType, metrics: () => collect((p) => p.metricsPort, true), health },
            opts.host,
            opts.metricsPort,
            METRICS_PORT,
          )
        : undefined;
    if (own) servers.push(own);
    const sdk =
      opts.sdkMetricsPort > 0
        ? await serveMetrics(
            { contentType, metrics: () => collect((p) => p.sdkMetricsPort, false) },
            opts.host,
            opts.sdkMetricsPort,
            SDK_METRICS_PORT,
          )
        : undefined;
    if (sdk) servers.push(sdk);
    return {
      port: own?.port ?? 0,
      sdkPort: sdk?.port ?? 0,
      health,
      close: async () => void (await Promise.all(servers.map((s) => s.close()))),
    };
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
}
