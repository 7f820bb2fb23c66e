import { CounterRng } from '../../rng/philox';
import type { Study, UnitProgram } from '../experiment';
import { advanceToy, equilibrate, fig2bToy, spectrumAt, type ValleyState } from '../toys/valley-toy';
import { fig2bAnalysis, type Fig2bOutput } from './analysis';
import type { Fig2bParams } from './definition';

interface State {
  step: number;
  deltas: number[];
  /** Repeats in which a curvature changed sign (the toy's premise broke). */
  flips: number;
}

const program = (lr: number): UnitProgram<Fig2bParams, State> => ({
  numerics: 'float64-js',
  init: () => ({ step: 0, deltas: [], flips: 0 }),
  async advance(ctx, s, untilStep, hooks) {
    const p = ctx.params;
    const opts = { lr, noise: p.noise, kind: 'sgd' as const };
    while (s.step < untilStep && !hooks.shouldStop()) {
      const rng = new CounterRng(ctx.seed, `fig2b/lr=${lr}/repeat=${s.step}`);
      const toy: ValleyState = { step: 0, theta: [0, 0, p.theta0[0]!, p.theta0[1]!] };
      equilibrate(fig2bToy, toy, opts, rng, 0);
      advanceToy(fig2bToy, toy, opts, rng, p.equilibrationSteps);
      const before = spectrumAt(fig2bToy, toy).trace;
      let flipped = false;
      const [a0, b0] = [Math.sign(p.theta0[0]! + p.theta0[1]!), Math.sign(p.theta0[0]! + 2 * p.theta0[1]!)];
      advanceToy(fig2bToy, toy, opts, rng, p.equilibrationSteps + p.measureSteps, (t) => {
        if (Math.sign(t.theta[2] + t.theta[3]) !== a0 || Math.sign(t.theta[2] + 2 * t.theta[3]) !== b0) flipped = true;
      });
      s.deltas.push(spectrumAt(fig2bToy, toy).trace - before);
      if (flipped) s.flips++;
      s.step++;
      hooks.onStep?.(s.step);
    }
    return s;
  },
  step: (s) => s.step,
  save: (s) => ({
    step: { dtype: 'I64', shape: [1], data: Float64Array.of(s.step) },
    deltas: { dtype: 'F64', shape: [s.deltas.length], data: Float64Array.from(s.deltas) },
    flips: { dtype: 'I64', shape: [1], data: Float64Array.of(s.flips) },
  }),
  load: (t) => ({ step: t.step!.data[0]!, deltas: Array.from(t.deltas!.data), flips: t.flips!.data[0]! }),
  output: (_ctx, s): Fig2bOutput => ({ lr, deltas: s.deltas, flips: s.flips }),
});

export const study: Study<Fig2bParams> = {
  units: (p) =>
    p.lrs.map((lr) => ({
      id: `lr=${lr}`,
      phase: 0,
      steps: p.repeats,
      checkpointEvery: Math.max(1, Math.floor(p.repeats / 4)),
      queue: 'cpu',
      args: { lr },
    })),
  program: (unit) => program(Number(unit.args.lr)),
  analyze: (p, outputs) => fig2bAnalysis(p, Object.values(outputs) as Fig2bOutput[]),
};
