import { CounterRng } from '../../rng/philox';
import type { Study, UnitProgram } from '../experiment';
import { advanceToy, equilibrate, fig2cdToy, spectrumAt, type ToyNoise, type ValleyState } from '../toys/valley-toy';
import { fig2cdAnalysis, type Fig2cdOutput } from './analysis';
import type { Fig2cdParams } from './definition';

/** Points recorded along each run for the figures. */
export const RECORDS = 50;

interface State {
  step: number;
  dTrace: number[];
  dLogdet: number[];
  /** Sums over runs of trace and log det at the recorded steps. */
  traceSum: number[];
  logdetSum: number[];
}

const recordSteps = (p: Fig2cdParams): number[] =>
  Array.from({ length: RECORDS + 1 }, (_, i) => Math.round((i * p.steps) / RECORDS));

const program = (kind: ToyNoise): UnitProgram<Fig2cdParams, State> => ({
  numerics: 'float64-js',
  init: () => ({
    step: 0,
    dTrace: [],
    dLogdet: [],
    traceSum: new Array(RECORDS + 1).fill(0),
    logdetSum: new Array(RECORDS + 1).fill(0),
  }),
  async advance(ctx, s, untilStep, hooks) {
    const p = ctx.params;
    const opts = { lr: p.lr, noise: p.noise, kind };
    const marks = recordSteps(p);
    while (s.step < untilStep && !hooks.shouldStop()) {
      const rng = new CounterRng(ctx.seed, `fig2cd/${kind}/repeat=${s.step}`);
      const toy: ValleyState = { step: 0, theta: [0, 0, p.theta0[0]!, p.theta0[1]!] };
      equilibrate(fig2cdToy, toy, opts, rng, 0);
      const start = spectrumAt(fig2cdToy, toy);
      let mark = 0;
      const note = (t: ValleyState): void => {
        while (mark < marks.length && marks[mark] === t.step) {
          const sp = spectrumAt(fig2cdToy, t);
          s.traceSum[mark]! += sp.trace;
          s.logdetSum[mark]! += sp.logdet;
          mark++;
        }
      };
      note(toy);
      advanceToy(fig2cdToy, toy, opts, rng, p.steps, note);
      const end = spectrumAt(fig2cdToy, toy);
      s.dTrace.push(end.trace - start.trace);
      s.dLogdet.push(end.logdet - start.logdet);
      s.step++;
      hooks.onStep?.(s.step);
    }
    return s;
  },
  step: (s) => s.step,
  save: (s) => ({
    step: { dtype: 'I64', shape: [1], data: Float64Array.of(s.step) },
    d_trace: { dtype: 'F64', shape: [s.dTrace.length], data: Float64Array.from(s.dTrace) },
    d_logdet: { dtype: 'F64', shape: [s.dLogdet.length], data: Float64Array.from(s.dLogdet) },
    trace_sum: { dtype: 'F64', shape: [s.traceSum.length], data: Float64Array.from(s.traceSum) },
    logdet_sum: { dtype: 'F64', shape: [s.logdetSum.length], data: Float64Array.from(s.logdetSum) },
  }),
  load: (t) => ({
    step: t.step!.data[0]!,
    dTrace: Array.from(t.d_trace!.data),
    dLogdet: Array.from(t.d_logdet!.data),
    traceSum: Array.from(t.trace_sum!.data),
    logdetSum: Array.from(t.logdet_sum!.data),
  }),
  output: (ctx, s): Fig2cdOutput => ({
    kind,
    dTrace: s.dTrace,
    dLogdet: s.dLogdet,
    at: recordSteps(ctx.params),
    trace: s.traceSum.map((v) => v / s.step),
    logdet: s.logdetSum.map((v) => v / s.step),
  }),
});

export const study: Study<Fig2cdParams> = {
  units: (p) =>
    (['sgd', 'isotropic'] as const).map((kind) => ({
      id: kind,
      phase: 0,
      steps: p.repeats,
      checkpointEvery: Math.max(1, Math.floor(p.repeats / 4)),
      queue: 'cpu',
      args: { kind },
    })),
  program: (unit) => program(unit.args.kind as ToyNoise),
  analyze: (p, outputs) => fig2cdAnalysis(p, outputs as Record<'sgd' | 'isotropic', Fig2cdOutput>),
};
