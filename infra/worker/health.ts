/**
 * A worker's liveness and readiness (its `/healthz` and `/readyz`), judged from what its
 * activities in flight last did. Pure: the rule is tested without servers.
 */

/** Where the worker is in its life. */
export type WorkerPhase = 'starting' | 'ready' | 'stopping' | 'stopped';

/** One activity attempt in flight, as the stall rule sees it. */
export interface InFlightActivity {
  /** Its type (`advanceUnit`, `trainSeed`, ...) and the kind of queue it came from. */
  activity: string;
  queue: string;
  /** When it last progressed: started or heartbeat (a step, a stage, a checkpoint committed), epoch ms. */
  lastProgressMs: number;
}

export interface HealthVerdict {
  /** Liveness: false when the worker should be restarted (an activity's numerics hang). */
  live: boolean;
  /** Readiness: the worker polls its task queues. */
  ready: boolean;
  phase: WorkerPhase;
  inFlight: number;
  /** Seconds since the activity in flight that progressed least recently last did (0 when idle). */
  oldestProgressAgeSeconds: number;
  stallSeconds: number;
  /** What is wrong and what to do, in one line; empty when live and ready. */
  reason: string;
}

/**
 * Not live once an activity in flight has not progressed for longer than `stallSeconds`: a call
 * into the numerics that never returns holds the slot (and the GPU) for good, and only a restart
 * frees it (the attempt is retried from its last checkpoint). An idle worker is live however long
 * it idles. Ready while the worker polls its queues (not while it starts or stops).
 */
export function judgeHealth(
  phase: WorkerPhase,
  inFlight: readonly InFlightActivity[],
  stallSeconds: number,
  now: number = Date.now(),
): HealthVerdict {
  const oldest = inFlight.reduce<InFlightActivity | undefined>(
    (a, b) => (a === undefined || b.lastProgressMs < a.lastProgressMs ? b : a),
    undefined,
  );
  const ageSeconds = oldest ? Math.max(0, now - oldest.lastProgressMs) / 1000 : 0;
  const live = ageSeconds <= stallSeconds;
  const ready = phase === 'ready';
  const reason = !live
    ? `activity ${oldest!.activity} on the ${oldest!.queue} queue has not progressed for ${Math.round(ageSeconds)} s ` +
      `(worker.stallSeconds = ${stallSeconds}): its numerics hang; restart the worker to free its slot ` +
      `(the attempt resumes from its last checkpoint), or raise REPRO_WORKER_STALL_SECONDS if its steps are that slow`
    : !ready
      ? `worker is ${phase}, not polling its task queues`
      : '';
  return {
    live,
    ready,
    phase,
    inFlight: inFlight.length,
    oldestProgressAgeSeconds: Math.round(ageSeconds * 10) / 10,
    stallSeconds,
    reason,
  };
}
