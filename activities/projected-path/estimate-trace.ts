import { Context } from '@temporalio/activity';
import type { PathParts } from '../../src/experiments/projected-path/parts';
import { hessianOperator } from '../../src/hessian/hvp';
import { xtrace } from '../../src/hessian/trace-estimators';
import type { Preempted } from '../stage-cache';
import { traceInputs, type MaybePreempted, type StageKit, type TraceEstimate } from './stage';
import type { StateRef } from './workspace';

/** Thrown inside the estimator to leave it when the worker is stopping. */
const STOP = new Error('worker stopping');

/**
 * Hessian trace at a stored minimum (XTrace, full training batch). A stopping worker answers
 * `preempted` between HVPs (the estimate starts over elsewhere; no retry is spent).
 */
export function makeEstimateTrace(kit: StageKit) {
  return async function estimateTrace(input: {
    parts: PathParts;
    minimum: StateRef;
    probeSeed: number;
    noCache: boolean;
  }): Promise<MaybePreempted<TraceEstimate>> {
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
    );
  };
}
