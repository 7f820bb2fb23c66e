import { CounterRng } from '../../rng/philox';
import { DivergenceError } from '../../train/divergence';

/**
 * The paper's four-parameter toy valleys (section 4.2), L = ½λ1(φ)·θ1² + ½λ2(φ)·θ2² with
 * φ = (θ3, θ4): θ1, θ2 are the non-degenerate directions with curvatures λ1, λ2, and φ moves
 * along the degenerate valley floor, pushed by the fluctuations of θ1, θ2 alone. Plain float64
 * arithmetic with noise from (seed, stream, step): every run replays bit for bit.
 */
export interface ValleyToy {
  name: string;
  /** The curvatures λ1, λ2 at φ and their gradients ∇φλ1, ∇φλ2. */
  curvatures(t3: number, t4: number): { l1: number; l2: number; g1: [number, number]; g2: [number, number] };
}

/** fig2b: L = ½|θ3 + θ4|·θ1² + ½|θ3 + 2θ4|·θ2², so ∇λ is constant where the signs hold. */
export const fig2bToy: ValleyToy = {
  name: 'L = ½|θ3+θ4|θ1² + ½|θ3+2θ4|θ2²',
  curvatures(t3, t4) {
    const a = t3 + t4,
      b = t3 + 2 * t4;
    const s1 = Math.sign(a),
      s2 = Math.sign(b);
    return { l1: Math.abs(a), l2: Math.abs(b), g1: [s1, s1], g2: [s2, 2 * s2] };
  },
};

/**
 * fig2cd: L = (4 − 2e^{−θ3²−θ4²})·θ1² + e^{−(θ3−θ4)²}·θ2², so λ1 = 8 − 4e^{−r²},
 * λ2 = 2e^{−(θ3−θ4)²}.
 */
export const fig2cdToy: ValleyToy = {
  name: 'L = (4 − 2e^{−θ3²−θ4²})θ1² + e^{−(θ3−θ4)²}θ2²',
  curvatures(t3, t4) {
    const e1 = Math.exp(-(t3 * t3 + t4 * t4));
    const d = t3 - t4;
    const e2 = Math.exp(-d * d);
    return { l1: 8 - 4 * e1, l2: 2 * e2, g1: [8 * t3 * e1, 8 * t4 * e1], g2: [-4 * d * e2, 4 * d * e2] };
  },
};

/** Noise in the non-degenerate coordinates: `sgd` has covariance c·H there, `isotropic` c·I. */
export type ToyNoise = 'sgd' | 'isotropic' | 'none';

/** A state of the toy: θ = (θ1, θ2, θ3, θ4) and the step reached. */
export interface ValleyState {
  step: number;
  theta: [number, number, number, number];
}

/** Trace and log-determinant of the non-degenerate Hessian block at a state. */
export function spectrumAt(toy: ValleyToy, s: ValleyState): { trace: number; logdet: number } {
  const { l1, l2 } = toy.curvatures(s.theta[2], s.theta[3]);
  return { trace: l1 + l2, logdet: Math.log(l1) + Math.log(l2) };
}

/** Noise variance C_ii of coordinate i (curvature λ) for a noise kind of strength c. */
export function noiseVariance(kind: ToyNoise, c: number, lambda: number): number {
  return kind === 'sgd' ? c * Math.max(lambda, 0) : kind === 'isotropic' ? c : 0;
}

/**
 * θ1, θ2 drawn from their stationary distribution under the noise at the current φ,
 * N(0, ηC_ii/(λ_i(2 − ηλ_i))): a run that starts "in equilibrium in the non-degenerate space".
 */
export function equilibrate(
  toy: ValleyToy,
  s: ValleyState,
  p: { lr: number; noise: number; kind: ToyNoise },
  rng: CounterRng,
  draw: number,
): void {
  const { l1, l2 } = toy.curvatures(s.theta[2], s.theta[3]);
  const sd = (l: number): number => Math.sqrt((p.lr * noiseVariance(p.kind, p.noise, l)) / (l * (2 - p.lr * l)));
  const [z1, z2] = rng.normalPair(draw, 0);
  s.theta[0] = sd(l1) * z1;
  s.theta[1] = sd(l2) * z2;
}

/**
 * Gradient descent with noise on θ1, θ2 up to `untilStep`: the draw of step t is
 * (seed, stream, t), so any range replays exactly. Calls `record` after every step.
 */
export function advanceToy(
  toy: ValleyToy,
  s: ValleyState,
  p: { lr: number; noise: number; kind: ToyNoise },
  rng: CounterRng,
  untilStep: number,
  record?: (s: ValleyState) => void,
): void {
  const { lr, noise, kind } = p;
  let [t1, t2, t3, t4] = s.theta;
  let step = s.step;
  while (step < untilStep) {
    const c = toy.curvatures(t3, t4);
    let g1 = c.l1 * t1,
      g2 = c.l2 * t2;
    if (kind !== 'none') {
      const [z1, z2] = rng.normalPair(step, 1);
      g1 += Math.sqrt(noiseVariance(kind, noise, c.l1)) * z1;
      g2 += Math.sqrt(noiseVariance(kind, noise, c.l2)) * z2;
    }
    const h1 = 0.5 * t1 * t1,
      h2 = 0.5 * t2 * t2;
    const g3 = h1 * c.g1[0] + h2 * c.g2[0];
    const g4 = h1 * c.g1[1] + h2 * c.g2[1];
    t1 -= lr * g1;
    t2 -= lr * g2;
    t3 -= lr * g3;
    t4 -= lr * g4;
    step++;
    if (record) {
      s.theta = [t1, t2, t3, t4];
      s.step = step;
      record(s);
    }
  }
  if (![t1, t2, t3, t4].every(Number.isFinite)) {
    throw new DivergenceError(`${toy.name} diverged before step ${step}; lower lr (now ${lr}) or noise (now ${noise})`);
  }
  s.theta = [t1, t2, t3, t4];
  s.step = step;
}

/**
 * The mean drift per step of a function f of the curvatures, from theory (Theorem 2's
 * computation at the state's φ, without the ∂f/∂λ = 1 restriction): ⟨Δφ⟩ = −(η/2)Σ_i v_i∇λ_i
 * with ⟨θ_i²⟩ = v_i = ηC_ii/(λ_i(2 − ηλ_i)), so ⟨Δf⟩ = Σ_k ∂f/∂λ_k ∇λ_k·⟨Δφ⟩.
 */
export function predictedDrift(
  toy: ValleyToy,
  s: ValleyState,
  p: { lr: number; noise: number; kind: ToyNoise },
  dfdl: (l1: number, l2: number) => [number, number],
): number {
  const c = toy.curvatures(s.theta[2], s.theta[3]);
  const v = (l: number): number => (p.lr * noiseVariance(p.kind, p.noise, l)) / (l * (2 - p.lr * l));
  const v1 = v(c.l1),
    v2 = v(c.l2);
  const dphi: [number, number] = [
    -(p.lr / 2) * (v1 * c.g1[0] + v2 * c.g2[0]),
    -(p.lr / 2) * (v1 * c.g1[1] + v2 * c.g2[1]),
  ];
  const [f1, f2] = dfdl(c.l1, c.l2);
  const grad: [number, number] = [f1 * c.g1[0] + f2 * c.g2[0], f1 * c.g1[1] + f2 * c.g2[1]];
  return grad[0] * dphi[0] + grad[1] * dphi[1];
}

export const traceDerivative = (): [number, number] => [1, 1];
export const logdetDerivative = (l1: number, l2: number): [number, number] => [1 / l1, 1 / l2];

/**
 * The mean-field path of the valley position: φ moves each step by its expected drift
 * ⟨Δφ⟩ = −(η/2)Σ_i v_i∇λ_i at the current φ (θ1, θ2 in equilibrium at every step). Returns the
 * state after `steps` steps; what it drops is the fluctuation of φ around that path.
 */
export function meanFieldPath(
  toy: ValleyToy,
  phi0: [number, number],
  p: { lr: number; noise: number; kind: ToyNoise },
  steps: number,
): ValleyState {
  let [t3, t4] = phi0;
  for (let t = 0; t < steps; t++) {
    const c = toy.curvatures(t3, t4);
    const v1 = (p.lr * noiseVariance(p.kind, p.noise, c.l1)) / (c.l1 * (2 - p.lr * c.l1));
    const v2 = (p.lr * noiseVariance(p.kind, p.noise, c.l2)) / (c.l2 * (2 - p.lr * c.l2));
    t3 -= (p.lr / 2) * (v1 * c.g1[0] + v2 * c.g2[0]);
    t4 -= (p.lr / 2) * (v1 * c.g1[1] + v2 * c.g2[1]);
  }
  return { step: steps, theta: [0, 0, t3, t4] };
}
