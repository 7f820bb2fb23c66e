import type { Tensor } from '../checkpoint/safetensors';
import type { TrainState } from './trainer';

/** A training state as safetensors tensors: theta, step, velocity and the designed-noise anchor. */
export function stateToTensors(s: TrainState): Record<string, Tensor> {
  const t: Record<string, Tensor> = {
    theta: { dtype: 'F32', shape: [s.theta.length], data: s.theta },
    step: { dtype: 'I64', shape: [1], data: Float64Array.of(s.step) },
  };
  if (s.velocity) t.velocity = { dtype: 'F32', shape: [s.velocity.length], data: s.velocity };
  if (s.noiseAnchor) {
    t.noise_anchor_theta = { dtype: 'F32', shape: [s.noiseAnchor.theta.length], data: s.noiseAnchor.theta };
    t.noise_anchor_step = { dtype: 'I64', shape: [1], data: Float64Array.of(s.noiseAnchor.step) };
  }
  return t;
}

export function tensorsToState(t: Record<string, Tensor>): TrainState {
  const s: TrainState = {
    step: t.step!.data[0]!,
    theta: Float32Array.from(t.theta!.data),
    velocity: t.velocity ? Float32Array.from(t.velocity.data) : null,
  };
  if (t.noise_anchor_theta && t.noise_anchor_step)
    s.noiseAnchor = { step: t.noise_anchor_step.data[0]!, theta: Float32Array.from(t.noise_anchor_theta.data) };
  return s;
}
