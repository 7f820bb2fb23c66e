import { Context } from '@temporalio/activity';
import type { PathParts } from '../../src/experiments/projected-path/parts';
import { hessianOperator } from '../../src/hessian/hvp';
import { xtrace } from '../../src/hessian/trace-estimators';
import type { Preempted } from '../stage-cache';
import { traceInputs, type MaybePreempted, type StageKit, type StageOptions, type TraceEstimate } from './stage';
import type { StateRef } from './workspace';

/** Thrown inside the estimator to leave it when the worker is stopping. */
const STOP = new Error('worker stopping');

/**
 * Hessian trace at a stored minimum (XTrace, full training batch). A stopping worker answers
 * `preempted` between HVPs (the estimate starts over elsewhere; no retry is spent).
 */
export function makeEstimateTrace(kit: StageKit) {
  return async function estimateTrace(
    input: {
      parts: PathParts;
      minimum: StateRef;
      probeSeed: number;
      noCache: boolean;
    },
    opts: StageOptions = {},
  ): Promise<MaybePreempted<TraceEstimate>> {
    const { parts } = input;
    return kit.stage<TraceEstimate>(
      'trace',
      parts,
      traceInputs(input.minimum, input.probeSeed),
      input.noCache,
      async (_key, sw) => {
        const { train } = await kit.ws.objectives(parts.objective);
        const s = await kit.ws.loadState(input.minimum);
        return sw.time(async (): Promise<TraceEstimate | Preempted> => {
          const op = hessianOperator(train, s.theta);
          try {
            const counted = {
              dim: op.dim,
              kernels: op.kernels,
              apply: async (v: Float64Array) => {
                kit.heartbeat({ stage: 'trace' });
                if (kit.cancelled()) throw Context.current().cancellationSignal.reason;
                if (kit.deps.stopping.aborted) throw STOP;
                return op.apply(v);
              },
            };
            const est = await xtrace(counted, { matvecs: parts.trace.probes, seed: input.probeSeed });
            return { trace: est.value, stderr: est.stderr, hvps: est.matvecs };
          } catch (err) {
            if (err === STOP) return { preempted: true };
            throw err;
          } finally {
            op.dispose();
          }
        });
      },
      opts.behind,
    );
  };
}

/** Trace estimates at several minima, as one activity answers them. */
export interface TracesOutcome {
  /** In the order of the minima asked for. */
  estimates: TraceEstimate[];
  cacheHits: number;
  computeMs: number;
  backends: string[];
}

/**
 * Trace estimates at several minima in one activity, one after the other, each exactly as
 * {@link makeEstimateTrace}'s activity computes and caches it: a killed attempt's retry finds the
 * finished ones in the cache; a stopping worker hands the batch back between HVPs.
 */
export function makeEstimateTraces(kit: StageKit, estimateTrace: ReturnType<typeof makeEstimateTrace>) {
  return async function estimateTraces(input: {
    parts: PathParts;
    minima: StateRef[];
    probeSeed: number;
    noCache: boolean;
  }): Promise<TracesOutcome | (Preempted & { computeMs: number })> {
    const estimates: TraceEstimate[] = [];
    const backends = new Set<string>();
    let cacheHits = 0,
      computeMs = 0;
    // Each answer's write trails the next estimate; all have landed when this answers.
    const behind = kit.ws.writeBehind();
    try {
      for (const minimum of input.minima) {
        const r = await estimateTrace(
          { parts: input.parts, minimum, probeSeed: input.probeSeed, noCache: input.noCache },
          { behind },
        );
        computeMs += r.computeMs;
        if ('preempted' in r) {
          await behind.flush();
          return { preempted: true, computeMs };
        }
        if (r.cacheHit) cacheHits++;
        backends.add(r.backend);
        estimates.push(r.value);
      }
      await behind.flush();
    } catch (err) {
      await behind.flush().catch(() => {}); // what was computed before the failure still lands
      throw err;
    }
    return { estimates, cacheHits, computeMs, backends: [...backends].sort() };
  };
}
