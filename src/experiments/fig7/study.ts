import { setImmediate as yieldToEventLoop } from 'timers/promises';
import type { Study, UnitProgram } from '../experiment';
import { fig7Analysis, type TrajectoryOutput } from './analysis';
import type { Fig7Params } from './definition';
import { advance, fromTensors, initialState, toTensors, VARIANTS, type ToyState, type Variant } from './toy';

/** Steps between yields to the event loop, so heartbeats and cancellation get through. */
const CHUNK = 10_000;

const program = (variant: Variant): UnitProgram<Fig7Params, ToyState> => ({
  numerics: 'float64-js',
  init: (ctx) => initialState(ctx.params),
  async advance(ctx, s, untilStep, hooks) {
    while (s.step < untilStep && !hooks.shouldStop()) {
      advance(s, ctx.params, variant, ctx.seed, Math.min(untilStep, s.step + CHUNK));
      hooks.onStep?.(s.step);
      await yieldToEventLoop();
    }
    return s;
  },
  step: (s) => s.step,
  save: toTensors,
  load: fromTensors,
  output: (_ctx, s): TrajectoryOutput => ({ theta: [s.theta1, s.theta2], samples: s.samples }),
});

/**
 * fig7 (appendix A.6): the GD and the noisy trajectory side by side, one unit each, checkpointed
 * every `checkpointEvery` steps; the analysis checks the equilibrium against theory.
 */
export const study: Study<Fig7Params> = {
  units: (p) =>
    VARIANTS.map((variant) => ({
      id: variant,
      phase: 0,
      steps: p.steps,
      checkpointEvery: p.checkpointEvery,
      queue: 'cpu',
      args: { variant },
    })),
  program: (unit) => program(unit.id === 'gd' ? 'gd' : 'noisy'),
  analyze: (p, outputs) => fig7Analysis(p, outputs.gd as TrajectoryOutput, outputs.noisy as TrajectoryOutput),
};
