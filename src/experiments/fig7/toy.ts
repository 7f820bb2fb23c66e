import { CounterRng } from '../../rng/philox';
import type { Tensor } from '../../checkpoint/safetensors';
import { DivergenceError } from '../../train/divergence';
import type { Fig7Params } from './definition';

/**
 * Appendix A.6's entropic-force toy: L(θ1, θ2) = ½(θ2² + 1)θ1² + αθ2.
 *
 * θ1 is the non-degenerate direction (curvature λ1 = θ2² + 1); θ2 moves the valley floor and
 * feels only the small slope α. With gradient noise of covariance c·H on the non-degenerate
 * coordinate, θ1 equilibrates at ⟨θ1²⟩ = ηc/(2 − ηλ1) ≈ ηc/2, which pushes θ2 uphill in λ1,
 * balancing α at ⟨θ2⟩ ≈ −2α/(ηc). Plain GD has θ1 → 0 and θ2 keeps sliding down the slope.
 *
 * Arithmetic is plain float64 so that any replay is bit-identical on every machine with the
 * same Node.js.
 */

export type Variant = 'gd' | 'noisy';
export const VARIANTS: readonly Variant[] = ['gd', 'noisy'];

/** Sub-sampled trajectory kept with the state (and so checkpointed with it). */
export interface Samples {
  step: number[];
  theta1: number[];
  theta2: number[];
}

export interface ToyState {
  step: number;
  theta1: number;
  theta2: number;
  samples: Samples;
}

export function recordEvery(p: Fig7Params): number {
  return p.recordEvery > 0 ? p.recordEvery : Math.max(1, Math.ceil(p.steps / 2000));
}

/** Relaxation time of θ2 in steps under the noise: 1 / (η · ⟨θ1²⟩) ≈ 2 / (η² c). */
export function relaxationSteps(p: Fig7Params): number {
  return 2 / (p.lr * p.lr * p.noise);
}

export function burnIn(p: Fig7Params): number {
  return p.burnIn > 0 ? p.burnIn : Math.min(Math.ceil(5 * relaxationSteps(p)), Math.floor(p.steps / 2));
}

export function initialState(p: Fig7Params): ToyState {
  const [t1, t2] = [p.theta0[0]!, p.theta0[1]!];
  return { step: 0, theta1: t1, theta2: t2, samples: { step: [0], theta1: [t1], theta2: [t2] } };
}

export function loss(p: Fig7Params, theta1: number, theta2: number): number {
  return 0.5 * (theta2 * theta2 + 1) * theta1 * theta1 + p.alpha * theta2;
}

/**
 * Advance `state` in place to `untilStep` (exclusive bound on work: state.step ends there).
 * The noise at step s is N(0, 1) from (seed, 'fig7/noise', s), so any range replays exactly.
 */
export function advance(state: ToyState, p: Fig7Params, variant: Variant, seed: number, untilStep: number): void {
  const rng = variant === 'noisy' ? new CounterRng(seed, 'fig7/noise') : undefined;
  const every = recordEvery(p);
  let { step, theta1: t1, theta2: t2 } = state;
  const { lr, alpha, noise } = p;
  while (step < untilStep) {
    const curvature = t2 * t2 + 1; // λ1 = ∂²L/∂θ1²
    let g1 = t1 * curvature;
    const g2 = t2 * t1 * t1 + alpha;
    if (rng) g1 += Math.sqrt(noise * curvature) * rng.normal(step);
    t1 -= lr * g1;
    t2 -= lr * g2;
    step += 1;
    if (step % every === 0) {
      state.samples.step.push(step);
      state.samples.theta1.push(t1);
      state.samples.theta2.push(t2);
    }
  }
  if (!Number.isFinite(t1) || !Number.isFinite(t2)) {
    throw new DivergenceError(
      `fig7 ${variant} diverged before step ${step} (θ = ${t1}, ${t2}); lower lr (now ${lr}) or noise (now ${noise})`,
    );
  }
  state.step = step;
  state.theta1 = t1;
  state.theta2 = t2;
}

/** A trajectory's state as checkpoint tensors (float64, so a resume is bit-identical). */
export function toTensors(s: ToyState): Record<string, Tensor> {
  const n = s.samples.step.length;
  return {
    theta: { dtype: 'F64', shape: [2], data: Float64Array.of(s.theta1, s.theta2) },
    step: { dtype: 'I64', shape: [1], data: Float64Array.of(s.step) },
    samples_step: { dtype: 'I64', shape: [n], data: Float64Array.from(s.samples.step) },
    samples_theta1: { dtype: 'F64', shape: [n], data: Float64Array.from(s.samples.theta1) },
    samples_theta2: { dtype: 'F64', shape: [n], data: Float64Array.from(s.samples.theta2) },
  };
}

export function fromTensors(t: Record<string, Tensor>): ToyState {
  const need = (name: string): Tensor['data'] => {
    const x = t[name];
    if (!x) throw new Error(`checkpoint lacks tensor '${name}'`);
    return x.data;
  };
  const theta = need('theta');
  return {
    step: need('step')[0]!,
    theta1: theta[0]!,
    theta2: theta[1]!,
    samples: {
      step: Array.from(need('samples_step')),
      theta1: Array.from(need('samples_theta1')),
      theta2: Array.from(need('samples_theta2')),
    },
  };
}
