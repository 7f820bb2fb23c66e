import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import * as os from 'os';
import { dataConverterFor } from '../codec';
import type { ReproConfig } from '../../temporal.config';
import { createActivities, type LogEvent } from '../../activities';
import { backendLabel, selectBackend } from '../../src/engine/backend';
import { codeVersion, connectionOptions, makeObjectStore, temporalUnreachable, UnreachableError } from '../clients';
import { GpuSlots } from './gpu-slots';
import { serveMetrics } from './metrics-server';
import { trackDeletionCost } from './pod-deletion-cost';
import { WorkerMetrics } from './worker-metrics';

export type QueueKind = 'cpu' | 'gpu';

export interface WorkerOptions {
  queues: QueueKind[];
  log: (e: LogEvent) => void;
  /** Aborting this stops the worker as SIGTERM would (used by `repro start`). */
  stop?: AbortSignal;
  /**
   * Serve activities only (no workflow tasks, no workflow bundle to build: starts in a second),
   * beside a worker that serves the workflows (`repro reproduce`'s extra worker processes).
   */
  activitiesOnly?: boolean;
}

let runtimeInstalled = false;

/** JSON-lines logger used by workers: one object per line on stdout. */
export function jsonLog(e: LogEvent): void {
  process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), pid: process.pid, ...e }) + '\n');
}

/**
 * The process's one Temporal runtime, installed before its first connection: a process may start
 * several workers (tests, `repro reproduce`), and the first one's settings hold for all of them,
 * the SDK's Prometheus exporter (worker.sdkMetricsPort) included.
 */
function installRuntime(config: ReproConfig): void {
  if (runtimeInstalled) return;
  const { sdkMetricsPort, metricsHost } = config.worker;
  // We handle signals ourselves so activities can checkpoint before the SDK cancels them.
  // Core's warnings are about its own bookkeeping (a progress query that expired while an
  // activity held the thread, say): benign, and not JSON, so only its errors reach the log.
  try {
    Runtime.install({
      shutdownSignals: [],
      logger: new DefaultLogger('WARN'),
      telemetryOptions: {
        logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }), forward: {} },
        ...(sdkMetricsPort > 0
          ? { metrics: { prometheus: { bindAddress: hostPort(metricsHost, sdkMetricsPort) } } }
          : {}),
      },
    });
  } catch (err) {
    // The one way it fails here: the exporter's port (the native message has no setting's name).
    if (sdkMetricsPort === 0) throw err;
    const why = (err as Error).message.split('\n')[0];
    throw new Error(
      `worker.sdkMetricsPort ${sdkMetricsPort} on ${metricsHost} cannot be served (${why}): ` +
        'pick a free port with REPRO_WORKER_SDK_METRICS_PORT (0: off), or an address with REPRO_WORKER_METRICS_HOST',
    );
  }
  runtimeInstalled = true;
}

const hostPort = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/**
 * Run a worker on the given task queues until SIGTERM/SIGINT or `stop`. On stop, running
 * activities are told first (they commit a final checkpoint and return), then the worker
 * drains and the connection closes. With worker.metricsPort set, it serves `/metrics`,
 * `/healthz` and `/readyz` there while it runs.
 */
export async function runWorker(config: ReproConfig, opts: WorkerOptions): Promise<void> {
  installRuntime(config);
  const { metricsPort, metricsHost, sdkMetricsPort, podDeletionCost } = config.worker;
  if (metricsPort === 0 && !podDeletionCost) return serve(config, opts);
  // The pod's deletion cost counts the activities in flight that the metrics' interceptor sees.
  const metrics = new WorkerMetrics(config.worker.stallSeconds);
  const server = metricsPort > 0 ? await serveMetrics(metrics, metricsHost, metricsPort) : undefined;
  const log = (e: LogEvent): void => {
    metrics.observeLog(e);
    opts.log(e);
  };
  if (server) log({ event: 'metrics', host: metricsHost, port: server.port, sdkPort: sdkMetricsPort });
  const stopCost = trackDeletionCost(podDeletionCost, () => metrics.health().inFlight, log);
  try {
    await serve(config, { ...opts, log }, metrics);
  } finally {
    metrics.setPhase('stopped');
    await stopCost();
    await server?.close();
  }
}

async function serve(config: ReproConfig, opts: WorkerOptions, metrics?: WorkerMetrics): Promise<void> {
  // Connected first: an unreachable server is one line on stderr, before a backend loads for nothing.
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(connectionOptions(config));
  } catch (err) {
    // The native layer's error is a Rust chain over several lines: one line with the fix instead.
    throw err instanceof UnreachableError ? err : temporalUnreachable(config, err as Error);
  }
  const { tf, info } = await selectBackend(config.backend, config.torch).catch(async (err: unknown) => {
    await connection.close();
    throw err;
  });
  opts.log({ event: 'backend', backend: info.name, package: info.package, skipped: info.skipped });
  metrics?.setBackend(backendLabel(info), codeVersion(), () => {
    // The torch addon counts every tensor it holds (a native program's too); tfjs counts its own.
    const m = tf.memory() as {
      numBytes: number;
      numTensors: number;
      numBytesInTorch?: number;
      numTensorsInTorch?: number;
    };
    return { bytes: m.numBytesInTorch ?? m.numBytes, tensors: m.numTensorsInTorch ?? m.numTensors };
  });
  const stopping = new AbortController();
  const activities = createActivities({
    store: metrics ? metrics.meter(makeObjectStore(config)) : makeObjectStore(config),
    config,
    stopping: stopping.signal,
    log: opts.log,
    codeVersion: codeVersion(),
  });
  const dataConverter = dataConverterFor(config);
  const slots = (q: QueueKind): number => (q === 'gpu' ? config.worker.gpuSlots : config.worker.concurrency);
  for (const q of opts.queues) metrics?.setSlots(q, config.taskQueues[q], slots(q));
  // Temporal hands the gpu queue its slots plus the prefetch; the slots themselves are held here.
  const gpu = config.worker.gpuPrefetch > 0 ? new GpuSlots(config.worker.gpuSlots) : undefined;
  const taken = (q: QueueKind): number => slots(q) + (q === 'gpu' && gpu ? config.worker.gpuPrefetch : 0);
  const interceptors = (q: QueueKind) => [
    ...(metrics ? [metrics.interceptor()] : []),
    ...(q === 'gpu' && gpu ? [gpu.interceptor()] : []),
  ];
  const workers = await Promise.all(
    opts.queues.map((q) =>
      Worker.create({
        dataConverter,
        connection,
        namespace: config.temporal.namespace,
        taskQueue: config.taskQueues[q],
        ...(opts.activitiesOnly ? {} : { workflowsPath: require.resolve('../../workflows') }),
        activities,
        maxConcurrentActivityTaskExecutions: taken(q),
        interceptors: { activity: interceptors(q) },
        // `repro doctor` reads each poller's identity: it names the numeric backend this worker runs.
        identity: `${process.pid}@${os.hostname()} ${backendLabel(info)}`,
        shutdownGraceTime: config.worker.shutdownGraceMs,
        // Heartbeats carry progress (`repro status`, the main job's ETAs): at most a second stale,
        // instead of the SDK's 80% of the heartbeat timeout.
        maxHeartbeatThrottleInterval: '1s',
      }),
    ),
  );

  const stop = (reason: string): void => {
    if (stopping.signal.aborted) return;
    opts.log({ event: 'stopping', reason });
    metrics?.setPhase('stopping');
    stopping.abort();
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  const onSignal = (sig: NodeJS.Signals): void => stop(sig);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  opts.stop?.addEventListener('abort', () => stop('requested'));

  opts.log({
    event: 'worker-ready',
    queues: opts.queues.map((q) => config.taskQueues[q]),
    concurrency: config.worker.concurrency,
    gpuSlots: config.worker.gpuSlots,
    namespace: config.temporal.namespace,
  });
  metrics?.setPhase('ready');
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await connection.close();
    opts.log({ event: 'worker-stopped' });
  }
}
