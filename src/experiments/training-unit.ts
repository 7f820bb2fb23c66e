/**
 * A unit that trains a tfjs model and measures it along the way: the common program of the
 * MNIST studies (fig2a, fig5, fig6, noise-topk). Training is the deterministic Trainer (batches,
 * augmentation and noise from seed and step), so a unit resumed from any checkpoint continues
 * the same trajectory; measurements happen at fixed steps and are checkpointed with the state.
 */
import type { Tensor } from '../checkpoint/safetensors';
import { stateToTensors, tensorsToState } from '../train/state-tensors';
import { Trainer, type TrainConfig, type TrainState } from '../train/trainer';
import type { UnitContext, UnitProgram } from './experiment';

/** A measurement at one step: named numbers. */
export type Measurement = Record<string, number>;

export interface TrainingState {
  train: TrainState;
  records: Array<{ step: number } & Measurement>;
}

export interface TrainingUnitOptions<P> {
  /** The trainer of this unit (model, data, loss, batch, SGD, seed, noise); its data may come from the worker. */
  trainer(ctx: UnitContext<P>): TrainConfig | Promise<TrainConfig>;
  /** The state training starts from (fresh weights, or an earlier phase's final state). */
  start(ctx: UnitContext<P>): Promise<TrainState>;
  /** Steps between measurements (0: only at the end), or a rule of the parameters; the first is at the start. */
  measureEvery: number | ((params: P) => number);
  measure?(ctx: UnitContext<P>, state: TrainState): Promise<Measurement>;
  output(ctx: UnitContext<P>, state: TrainingState): Promise<unknown> | unknown;
}

const trainers = new WeakMap<object, Promise<Trainer>>();

/** A study program that trains with the project's Trainer and measures at fixed steps. */
export function trainingUnit<P>(o: TrainingUnitOptions<P>): UnitProgram<P, TrainingState> {
  const trainerOf = (ctx: UnitContext<P>): Promise<Trainer> => {
    // One trainer per unit context and process: it caches the designed-noise basis.
    let t = trainers.get(ctx as object);
    if (!t) {
      t = Promise.resolve(o.trainer(ctx)).then((config) => new Trainer(config));
      trainers.set(ctx as object, t);
    }
    return t;
  };
  const every = (ctx: UnitContext<P>): number =>
    typeof o.measureEvery === 'function' ? o.measureEvery(ctx.params) : o.measureEvery;
  const record = async (ctx: UnitContext<P>, s: TrainingState): Promise<void> => {
    if (!o.measure || s.records.at(-1)?.step === s.train.step) return;
    s.records.push({ step: s.train.step, ...(await o.measure(ctx, s.train)) });
  };
  return {
    numerics: 'tfjs',
    async init(ctx) {
      const s: TrainingState = { train: await o.start(ctx), records: [] };
      await record(ctx, s);
      return s;
    },
    async advance(ctx, s, untilStep, hooks) {
      const trainer = await trainerOf(ctx);
      const m = every(ctx);
      while (s.train.step < untilStep && !hooks.shouldStop()) {
        const next = m > 0 ? Math.min(untilStep, (Math.floor(s.train.step / m) + 1) * m) : untilStep;
        s.train = await trainer.run(s.train, next, {
          yieldEvery: 1,
          shouldStop: hooks.shouldStop,
          onStep: (step) => hooks.onStep?.(step),
        });
        if ((m > 0 && s.train.step % m === 0) || s.train.step === ctx.unit.steps) await record(ctx, s);
      }
      return s;
    },
    step: (s) => s.train.step,
    save: (s): Record<string, Tensor> => ({
      ...stateToTensors(s.train),
      records_json: jsonTensor(s.records),
    }),
    load: (t) => ({
      train: tensorsToState(t),
      records: JSON.parse(Buffer.from(t.records_json!.data as Uint8Array).toString('utf8')),
    }),
    output: (ctx, s) => o.output(ctx, s),
  };
}

function jsonTensor(value: unknown): Tensor {
  const bytes = new Uint8Array(Buffer.from(JSON.stringify(value), 'utf8'));
  return { dtype: 'U8', shape: [bytes.length], data: bytes };
}
