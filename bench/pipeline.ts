/**
 * The projected-path pipeline on the embedded stack with an in-process worker, as `npm start` runs
 * it: for each preset, wall time from a polling worker and the share of it spent outside numerics
 * (the issue's measure: wall time minus the stages' numerics, over wall time). The presets are the
 * generic engine's `small` (196-30-10 MLP on real MNIST, 5 epochs, 4 seeds: the smallest stages, the
 * worst case for a fixed cost per stage; then the same run again from the cache) and the suite's
 * own projected-path runs (fig4bc small, fig4a quick, fig1 small: about 10 minutes for the three).
 * `--pipeline=EXPERIMENT:PRESET` (repeatable) measures those instead. The clock starts once the
 * worker polls (its start is a line of its own).
 * The worker has one gpu slot (the default: one model at a time), so the summed compute time of
 * the stages is not inflated by numeric activities interleaving on Node's one thread.
 */
import { randomUUID } from 'crypto';
import { makeObjectStore, connectTemporal } from '../infra/clients';
import { awaitResult, startRun } from '../infra/cli/runs';
import { runWorker } from '../infra/worker/start-worker';
import { planRun } from '../src/experiments/registry';
import type { ReproConfig } from '../temporal.config';
import type { Line } from './numerics';

interface PathSummary {
  counts: { trainSteps: number; projections: number; replays: number; lineChecks: number; cacheHits: number };
  summary: {
    points: number;
    time: { wallSeconds: number; computeSeconds: number; computeSecondsByStage: Record<string, number> };
  };
  backends: string[];
}

/** The generic engine's small preset first (then cached), then the suite's projected-path presets. */
const DEFAULT_PRESETS = ['projected-path:small', 'fig4bc:small', 'fig4a:quick', 'fig1:small'];

export async function benchPipeline(base: ReproConfig, line: Line, flags: string[] = []): Promise<void> {
  const chosen = flags.filter((f) => f.startsWith('--pipeline=')).map((f) => f.slice('--pipeline='.length));
  const presets = chosen.length ? chosen : DEFAULT_PRESETS;
  const config: ReproConfig = {
    ...base,
    worker: { ...base.worker, gpuSlots: 1, gpuPrefetch: 1 }, // as the main job's workers
    taskQueues: { cpu: `bench-cpu-${randomUUID()}`, gpu: `bench-gpu-${randomUUID()}` },
  };
  const stop = new AbortController();
  // The clock starts once the worker polls: its start (the workflow bundle, the backend) is paid once
  // per process, not per run, and is printed on its own line.
  const t0 = performance.now();
  let ready!: () => void;
  const polling = new Promise<void>((r) => (ready = r));
  const worker = runWorker(config, {
    queues: ['cpu', 'gpu'],
    stop: stop.signal,
    log: (e) => e.event === 'worker-ready' && ready(),
  });
  await Promise.race([polling, worker]);
  const started = (performance.now() - t0) / 1000;
  line('projected-path pipeline: worker start (workflow bundle, backend)', `${started.toFixed(1)} s`);
  const { client, connection } = await connectTemporal(config);
  const store = makeObjectStore(config);
  try {
    for (const spec of presets) {
      const [name = '', preset = 'small'] = spec.split(':');
      const { experiment, params } = planRun(name, preset, []);
      const once = async (): Promise<{ wall: number; r: PathSummary }> => {
        const t0 = performance.now();
        const handle = await startRun(client, config, experiment, preset, params, 1, `bench-pp-${randomUUID()}`);
        const r = (await awaitResult(handle, store)) as unknown as PathSummary;
        return { wall: (performance.now() - t0) / 1000, r };
      };
      const fresh = await once();
      const t = fresh.r.summary.time;
      const stages = Object.entries(t.computeSecondsByStage)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ');
      line(
        `${name} ${preset} (${fresh.r.backends.join(', ')}): wall from a polling worker`,
        `${fresh.wall.toFixed(1)} s for ${fresh.r.summary.points} path points, ` +
          `${fresh.r.counts.projections} projections, ${fresh.r.counts.replays} replays, ` +
          `${fresh.r.counts.lineChecks} line checks`,
      );
      line('  numerics by stage (s)', stages);
      line(
        '  share of wall time outside numerics',
        `${(100 * (1 - t.computeSeconds / fresh.wall)).toFixed(1)}% ` +
          `(${(fresh.wall - t.computeSeconds).toFixed(1)} of ${fresh.wall.toFixed(1)} s)`,
      );
      if (spec !== presets[0]) continue;
      const cached = await once();
      line(
        '  cached re-run: wall, numerics, stages from cache',
        `${cached.wall.toFixed(1)} s, ${cached.r.summary.time.computeSeconds} s, ${cached.r.counts.cacheHits} hits, ` +
          `${cached.r.counts.trainSteps} train steps; ` +
          `${(fresh.wall / cached.wall).toFixed(0)}x faster than the first run`,
      );
    }
  } finally {
    await connection.close();
    stop.abort();
    await worker;
  }
}
