import * as os from 'os';
import type { ReproConfig } from '../../temporal.config';
import type { LogEvent } from '../../activities';
import { assignDevices, gpuWorkerPlan, startChildWorkers, type ParentFlags } from './child-workers';
import { trackDeletionCost } from './pod-deletion-cost';
import { LOOPBACK, podParts, portsOf, servePodMetrics } from './pod-metrics';
import { runWorker, type QueueKind } from './start-worker';

export interface GpuWorkersOptions {
  queues: QueueKind[];
  /** The parent's own flags, passed on to each child. */
  flags: ParentFlags;
  log: (e: LogEvent) => void;
}

/** Torch threads per GPU worker: torch.threads where set, else an equal share of the cores. */
export function threadsPerGpuWorker(configured: number, cores: number, n: number): number {
  return configured > 0 ? configured : Math.max(1, Math.floor(cores / n));
}

/**
 * worker.gpus = N: N child processes serve the gpu queue, each pinned to its own device through
 * `CUDA_VISIBLE_DEVICES` (the addon holds one device per process), with one gpu slot and its share
 * of the cores; this process serves the cpu queue when asked, and otherwise only supervises. A
 * child that dies is restarted a few times; past that this command fails, so the pod restarts.
 * SIGTERM/SIGINT reach every child, and this returns once all have checkpointed and exited.
 */
export async function runGpuWorkers(config: ReproConfig, opts: GpuWorkersOptions): Promise<void> {
  const n = config.worker.gpus;
  const devices = assignDevices(process.env.CUDA_VISIBLE_DEVICES, n);
  const threads = threadsPerGpuWorker(config.torch.threads, os.availableParallelism(), n);
  const cpuHere = opts.queues.includes('cpu');
  // Every worker process (this one too where it serves the cpu queue) serves its metrics on loopback
  // ports of its own; this process serves them merged on the pod's ports.
  const { metricsPort, sdkMetricsPort, metricsHost, stallSeconds } = config.worker;
  const parts = await podParts(devices, cpuHere, config.worker);
  const pod = await servePodMetrics(parts, { host: metricsHost, metricsPort, sdkMetricsPort, stallSeconds });
  if (pod.port > 0 || pod.sdkPort > 0)
    opts.log({ event: 'metrics', host: metricsHost, port: pod.port, sdkPort: pod.sdkPort, processes: parts.length });
  const specs = gpuWorkerPlan(devices, threads, opts.flags, parts);
  opts.log({ event: 'gpu-workers', devices, threads });
  const children = startChildWorkers(specs, (text, stream) => process[stream].write(text));
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // The pod's deletion cost: the activities in flight over all its processes, read from their /healthz.
  // Its processes are counted where they serve /healthz, on the ports worker.metricsPort gives them.
  const counted = metricsPort > 0;
  if (config.worker.podDeletionCost && !counted)
    opts.log({ event: 'pod-deletion-cost-off', reason: 'worker.metricsPort is 0: the processes cannot be counted' });
  const stopCost = trackDeletionCost(
    config.worker.podDeletionCost && counted,
    async () => (await pod.health()).inFlight,
    opts.log,
  );
  const here = cpuHere
    ? runWorker(
        {
          ...config,
          worker: { ...config.worker, metricsHost: LOOPBACK, ...portsOf(parts[n]!), podDeletionCost: false },
        },
        { queues: ['cpu'], log: opts.log, stop: stop.signal },
      )
    : new Promise<void>((r) => stop.signal.addEventListener('abort', () => r()));
  try {
    await Promise.race([here, children.failed]);
  } finally {
    stop.abort();
    await children.stop();
    await here.catch(() => {});
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await stopCost();
    await pod.close();
    opts.log({ event: 'gpu-workers-stopped' });
  }
}
