/**
 * repro's own worker metrics (prom-client), gathered at the seams the worker owns without
 * touching the activities: an activity interceptor (attempts in flight, queue wait, and every
 * heartbeat: its step and loss), the log events the activities already emit (checkpoints,
 * resumes, preemptions), and the object store handed to them (checkpoint bytes and seconds).
 */
import type { Context as ActivityContext } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LogEvent } from '../../activities';
import type { ObjectStore } from '../../src/storage/object-store';
import { judgeHealth, type HealthVerdict, type InFlightActivity, type WorkerPhase } from './health';
import { MeteredStore } from './metered-store';
import type { MetricsSource } from './metrics-server';

type Outcome = 'completed' | 'preempted' | 'cancelled' | 'failed';

const WAIT_BUCKETS = [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600, 14400];
const CHECKPOINT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300];

const record = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

interface Running extends InFlightActivity {
  /** The step its heartbeats last reported, by stage (`train`, a projection's GD), to count steps since. */
  steps: Map<string, number>;
}

/** What the numeric engine's tensors hold: bytes on its device, and how many. */
export interface EngineMemory {
  bytes: number;
  tensors: number;
}

/** The metrics of one worker process (every queue it serves), and the state `/healthz` judges. */
export class WorkerMetrics implements MetricsSource {
  readonly registry = new Registry();
  private phase: WorkerPhase = 'starting';
  private readonly running = new Set<Running>();
  private readonly queueKinds = new Map<string, string>();
  private engineMemory?: () => EngineMemory;

  private readonly info = new Gauge({
    name: 'repro_worker_info',
    help: 'This worker: numeric backend and code version (value 1).',
    labelNames: ['backend', 'code_version'] as const,
    registers: [this.registry],
  });
  private readonly slots = new Gauge({
    name: 'repro_activity_slots',
    help: 'Activities this worker runs at once, per queue (worker.concurrency, worker.gpuSlots).',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  private readonly inFlight = new Gauge({
    name: 'repro_activities_in_flight',
    help: 'Activity attempts running now (study units, path stages, summaries); by queue they are the slots in use.',
    labelNames: ['queue', 'activity'] as const,
    registers: [this.registry],
  });
  private readonly attempts = new Counter({
    name: 'repro_activities_total',
    help: 'Activity attempts ended, by outcome (completed; preempted: committed and handed back; cancelled; failed).',
    labelNames: ['queue', 'activity', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly queueWait = new Histogram({
    name: 'repro_activity_queue_wait_seconds',
    help: 'Time an attempt waited in its task queue, from scheduled to started (long waits: add workers).',
    labelNames: ['queue', 'activity'] as const,
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });
  private readonly steps = new Counter({
    name: 'repro_training_steps_total',
    help: 'Optimizer steps taken, from the heartbeats of the activities in flight: its rate() is steps/s.',
    labelNames: ['queue', 'activity'] as const,
    registers: [this.registry],
  });
  private readonly loss = new Gauge({
    name: 'repro_training_loss',
    help: 'The last training loss an activity reported in a heartbeat.',
    labelNames: ['queue', 'activity'] as const,
    registers: [this.registry],
  });
  private readonly events = new Counter({
    name: 'repro_events_total',
    help: "The worker's log events by name (checkpoint, resume, preempted, cancelled, checkpoint-skipped, ...).",
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  private readonly checkpointBytes = new Counter({
    name: 'repro_checkpoint_bytes_total',
    help: 'Bytes of checkpoints (data and manifests) written and read.',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });
  private readonly checkpointSeconds = new Histogram({
    name: 'repro_checkpoint_seconds',
    help: 'Time to commit a checkpoint (data upload start to manifest written), or to read its data.',
    labelNames: ['op'] as const,
    buckets: CHECKPOINT_BUCKETS,
    registers: [this.registry],
  });

  constructor(
    private readonly stallSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    const slotsUsed = new Gauge({
      name: 'repro_activity_slots_used',
      help: 'Activity slots in use now, per queue (compare repro_activity_slots).',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      collect: () => {
        slotsUsed.reset();
        for (const queue of this.queueKinds.values()) slotsUsed.set({ queue }, 0);
        for (const a of this.running) slotsUsed.inc({ queue: a.queue });
      },
    });
    const age: Gauge = new Gauge({
      name: 'repro_numerics_progress_age_seconds',
      help: 'Seconds since the activity in flight that progressed least recently last heartbeat (0 when idle).',
      registers: [this.registry],
      collect: (): void => age.set(this.health().oldestProgressAgeSeconds),
    });
    const ready: Gauge = new Gauge({
      name: 'repro_worker_ready',
      help: '1 while the worker polls its task queues.',
      registers: [this.registry],
      collect: (): void => ready.set(this.phase === 'ready' ? 1 : 0),
    });
    const tensorBytes: Gauge = new Gauge({
      name: 'repro_engine_tensor_bytes',
      help:
        'Bytes of the tensors the numeric engine holds now, on its device (torch on CUDA: GPU memory in live ' +
        "tensors, the model's, its optimizer's and intermediates, not the allocator's cache).",
      registers: [this.registry],
      collect: (): void => tensorBytes.set(this.engineMemory?.().bytes ?? 0),
    });
    const tensors: Gauge = new Gauge({
      name: 'repro_engine_tensors',
      help: 'Tensors the numeric engine holds now (one that only grows: a leak across steps).',
      registers: [this.registry],
      collect: (): void => tensors.set(this.engineMemory?.().tensors ?? 0),
    });
    // The process's CPU, memory, event-loop lag (a blocked loop: a numerics call that does not yield).
    collectDefaultMetrics({ register: this.registry });
  }

  /** The registry's text format, as `/metrics` serves it (a MetricsSource). */
  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * The numeric backend is chosen (`torch (libtorch 2.11.0 cuda:0)`, say); `memory` reads what its
   * tensors hold now (tf.memory()).
   */
  setBackend(label: string, codeVersion: string, memory?: () => EngineMemory): void {
    this.info.set({ backend: label, code_version: codeVersion }, 1);
    this.engineMemory = memory;
  }

  /** The worker serves `taskQueue` as its `kind` queue, at most `n` activities at once. */
  setSlots(kind: string, taskQueue: string, n: number): void {
    this.queueKinds.set(taskQueue, kind);
    this.slots.set({ queue: kind }, n);
  }

  setPhase(phase: WorkerPhase): void {
    this.phase = phase;
  }

  health(): HealthVerdict {
    return judgeHealth(this.phase, [...this.running], this.stallSeconds, this.now());
  }

  /** Every log event the worker prints passes here too: counted by name. */
  observeLog(e: LogEvent): void {
    this.events.inc({ event: e.event });
  }

  /** The activities' store: the same store, checkpoint writes and reads timed and counted. */
  meter(store: ObjectStore): ObjectStore {
    return new MeteredStore(store, this.now, {
      wrote: (bytes) => this.checkpointBytes.inc({ op: 'write' }, bytes),
      committed: (seconds) => this.checkpointSeconds.observe({ op: 'write' }, seconds),
      read: (bytes, seconds) => {
        this.checkpointBytes.inc({ op: 'read' }, bytes);
        this.checkpointSeconds.observe({ op: 'read' }, seconds);
      },
    });
  }

  /** The activity interceptor feeding these metrics: one per worker, every queue. */
  interceptor(): ActivityInterceptorsFactory {
    return (ctx: ActivityContext) => {
      const { info } = ctx;
      const labels = { queue: this.queueKinds.get(info.taskQueue) ?? info.taskQueue, activity: info.activityType };
      const a: Running = { ...labels, lastProgressMs: this.now(), steps: new Map() };
      // The SDK has no heartbeat interceptor: activities heartbeat through Context.current(),
      // this very object (the SDK's async-local store), so its heartbeat is wrapped here.
      const heartbeat = ctx.heartbeat;
      (ctx as { heartbeat: (details?: unknown) => void }).heartbeat = (details?: unknown): void => {
        this.heartbeat(a, details);
        heartbeat(details);
      };
      return {
        inbound: {
          execute: async (input, next) => {
            a.lastProgressMs = this.now();
            this.running.add(a);
            this.inFlight.inc(labels);
            const waitedMs = a.lastProgressMs - info.currentAttemptScheduledTimestampMs;
            this.queueWait.observe(labels, Math.max(0, waitedMs) / 1000);
            let outcome: Outcome = 'failed';
            try {
              const result = await next(input);
              outcome = record(result).preempted === true ? 'preempted' : 'completed';
              return result;
            } catch (err) {
              if (ctx.cancellationSignal.aborted) outcome = 'cancelled';
              throw err;
            } finally {
              this.running.delete(a);
              this.inFlight.dec(labels);
              this.attempts.inc({ ...labels, outcome });
            }
          },
        },
      };
    };
  }

  /** A heartbeat's details: `step` (counted into steps/s, per `stage`) and `loss`. */
  private heartbeat(a: Running, details: unknown): void {
    a.lastProgressMs = this.now();
    const d = record(details);
    const labels = { queue: a.queue, activity: a.activity };
    if (typeof d.step === 'number' && Number.isFinite(d.step)) {
      const stage = typeof d.stage === 'string' ? d.stage : '';
      const before = a.steps.get(stage);
      // A stage's first report is where it resumed from, not steps taken now.
      if (before !== undefined && d.step > before) this.steps.inc(labels, d.step - before);
      a.steps.set(stage, d.step);
    }
    if (typeof d.loss === 'number' && Number.isFinite(d.loss)) this.loss.set(labels, d.loss);
  }
}
