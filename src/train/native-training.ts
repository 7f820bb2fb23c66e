import * as tf from '@tensorflow/tfjs';
import { setImmediate as yieldToEventLoop } from 'timers/promises';
import { augmentParams } from '../data/preprocess';
import type { TorchAddon } from '../engine/torch/backend';
import { deviceDataset, LOSS_CODES, type NativeProgram } from '../engine/torch/native';
import { streamId } from '../rng/philox';
import { LossLog } from './loss-log';
import { DEFAULT_LOSS_EVERY, type StepSource, type TrainHooks, type TrainState } from './train-types';

/**
 * The trainer's epoch order (`permutation(n, seed, 'data/order', epoch)`) computed by the addon:
 * the same numbers (test/unit/torch-native.test.ts), at a fraction of the JavaScript's cost.
 */
function epochOrder(addon: TorchAddon, n: number, seed: number, epoch: number): number {
  return addon.permutation(n, (seed % 2 ** 32) >>> 0, Math.floor(seed / 2 ** 32) >>> 0, streamId('data/order'), epoch);
}

/** The padding of the trainer's CIFAR augmentation (src/data/preprocess.ts's default). */
const AUGMENT_PADDING = 4;

/**
 * Trainer.run as native programs: θ and the velocity live in the addon as flat buffers
 * that each step updates in place; the data set is uploaded once and each epoch's sample order
 * once, and one native call runs as many steps as the hooks allow (up to the next yield, loss
 * read or epoch end) without waiting for the device. Steps that need the host between gradient
 * and update (designed noise, `onGradient`) take one call for the gradient and one for the
 * update. Same batches, augmentation, SGD and state as the tfjs path; the numbers agree with it
 * to float32 rounding, and a replay on this path, straight or resumed, is bit-identical on the CPU.
 */
export async function trainNative(
  trainer: StepSource,
  program: NativeProgram,
  state: TrainState,
  untilStep: number,
  hooks: TrainHooks,
): Promise<TrainState> {
  const cfg = trainer.cfg;
  const addon = program.addon;
  const n = cfg.model.paramCount;
  if (state.theta.length !== n) throw new Error(`θ has ${state.theta.length} values, ${cfg.model.name} ${n}`);
  const momentum = cfg.sgd.momentum !== 0;
  const sgd = Float64Array.of(
    cfg.sgd.lr,
    cfg.sgd.momentum,
    cfg.sgd.dampening,
    cfg.sgd.weightDecay,
    cfg.sgd.nesterov ? 1 : 0,
  );
  const theta = addon.upload(Float32Array.from(state.theta), 0, [n]);
  const velocity = momentum ? addon.upload(state.velocity ?? new Float32Array(n), 0, [n]) : -1;
  let hasVelocity = momentum && state.velocity !== null;
  const data = deviceDataset(program, cfg.data);
  const losses = new LossLog(hooks.lossEvery ?? DEFAULT_LOSS_EVERY, cfg.sgd.lr, hooks.onStep);
  const batch = cfg.batchSize,
    perEpoch = trainer.stepsPerEpoch;
  let order: { epoch: number; handle: number } | undefined;
  const orderOf = (epoch: number): number => {
    if (order?.epoch !== epoch) {
      if (order) addon.free(order.handle);
      order = undefined;
      order = { epoch, handle: epochOrder(addon, cfg.data.y.length, cfg.seed, epoch) };
    }
    return order.handle;
  };
  const read = (h: number): Float32Array => addon.download(h) as Float32Array;
  let step = state.step;
  let anchor = state.noiseAnchor;
  try {
    while (step < untilStep) {
      if (cfg.noise && step % cfg.noise.refreshEvery === 0) anchor = { step, theta: read(theta) };
      if (cfg.noise || hooks.onGradient) {
        const { x, y } = trainer.batch(step);
        const { grad, losses: l } = program.gradient(theta, [{ x, y }], [1], cfg.loss, cfg.smoothing);
        tf.dispose([x, y]);
        let g = grad;
        if (cfg.noise) {
          const xi = await trainer.noise(anchor, step);
          g = tf.tidy(() => tf.add(grad, tf.tensor1d(Float32Array.from(xi))));
          grad.dispose();
        }
        try {
          if (hooks.onGradient)
            hooks.onGradient(step, read(theta), g.dataSync() as Float32Array, hasVelocity ? read(velocity) : null);
          addon.sgdUpdate(theta, program.backend.handle(g.dataId), velocity, hasVelocity, sgd);
        } finally {
          g.dispose();
        }
        losses.add(
          step,
          1,
          () => l.data(),
          () => l.dispose(),
        );
        step++;
      } else {
        const epoch = Math.floor(step / perEpoch),
          inEpoch = step % perEpoch;
        const yieldIn = hooks.yieldEvery ? hooks.yieldEvery - (step % hooks.yieldEvery) : Infinity;
        const k = Math.min(untilStep - step, perEpoch - inEpoch, yieldIn, losses.room());
        let aug = -1;
        if (cfg.augment) {
          const draws = new Int32Array(k * batch * 3);
          for (let i = 0; i < k; i++)
            draws.set(augmentParams(batch, cfg.seed, step + i, AUGMENT_PADDING), i * batch * 3);
          aug = addon.upload(draws, 1, [k, batch, 3]);
        }
        let out: number;
        try {
          out = addon.programTrain(
            program.id,
            theta,
            velocity,
            hasVelocity,
            data.x,
            data.y,
            orderOf(epoch),
            inEpoch * batch,
            batch,
            k,
            aug,
            AUGMENT_PADDING,
            sgd,
            LOSS_CODES[cfg.loss],
            cfg.smoothing,
          );
        } finally {
          if (aug >= 0) addon.free(aug);
        }
        losses.add(
          step,
          k,
          async () => read(out),
          () => addon.free(out),
        );
        step += k;
      }
      if (momentum) hasVelocity = true;
      await losses.settle();
      if (hooks.yieldEvery && step % hooks.yieldEvery === 0) await yieldToEventLoop();
      if (hooks.shouldStop?.()) break;
    }
    await losses.settle(true);
    const out: TrainState = {
      step,
      theta: read(theta),
      velocity: hasVelocity ? read(velocity) : step === state.step ? state.velocity : null,
    };
    if (cfg.noise && step % cfg.noise.refreshEvery !== 0 && anchor) out.noiseAnchor = anchor;
    return out;
  } finally {
    losses.dispose();
    addon.free(theta);
    if (velocity >= 0) addon.free(velocity);
    if (order) addon.free(order.handle);
  }
}
