import type { SgdConfig } from '../optim/sgd';

/**
 * Yaida's fluctuation-dissipation relation (Yaida 2018) for SGD with momentum μ, dampening ν and
 * weight decay λ: at stationarity ⟨O_L⟩ = ⟨O_R⟩ with
 *   O_L = θ·(∇L_B + λθ),   O_R = (η/2)·(1 + μ)/(1 − ν)·‖v‖²   (v: velocity before the update),
 * measured in the full space and projected on a basis (the top-k Hessian eigenvectors).
 * Averages are over the steps recorded so far, or over their latter half (a half-running average).
 */
export class FdrMonitor {
  private readonly left: number[] = [];
  private readonly right: number[] = [];
  private readonly leftProjected: number[] = [];
  private readonly rightProjected: number[] = [];
  private readonly factor: number;

  constructor(
    private readonly sgd: SgdConfig,
    private readonly basis: Float64Array[] = [],
  ) {
    this.factor = ((sgd.lr / 2) * (1 + sgd.momentum)) / (1 - sgd.dampening);
  }

  /** One step's observables: parameters, mini-batch gradient and velocity before the update. */
  record(theta: ArrayLike<number>, batchGrad: ArrayLike<number>, velocityBefore: ArrayLike<number> | null): void {
    const n = theta.length;
    const d = Float64Array.from({ length: n }, (_, i) => batchGrad[i]! + this.sgd.weightDecay * theta[i]!);
    let ol = 0,
      vv = 0;
    for (let i = 0; i < n; i++) {
      ol += theta[i]! * d[i]!;
      vv += velocityBefore ? velocityBefore[i]! ** 2 : 0;
    }
    this.left.push(ol);
    this.right.push(this.factor * vv);
    if (this.basis.length) {
      let olp = 0,
        vvp = 0;
      for (const u of this.basis) {
        let ut = 0,
          ud = 0,
          uv = 0;
        for (let i = 0; i < n; i++) {
          ut += u[i]! * theta[i]!;
          ud += u[i]! * d[i]!;
          uv += velocityBefore ? u[i]! * velocityBefore[i]! : 0;
        }
        olp += ut * ud;
        vvp += uv * uv;
      }
      this.leftProjected.push(olp);
      this.rightProjected.push(this.factor * vvp);
    }
  }

  /**
   * Averages over `window` (every recorded step, or the latter half) and |O_L/O_R − 1|, full and
   * projected, each with a standard error.
   * The error is not that of independent samples: Σ_t (O_L − O_R) over a window telescopes to
   * boundary terms (the change of θ² and θ·v across it: Yaida's derivation), so the window's
   * deviation is one boundary term over Σ O_R. Its size is estimated by the spread of that
   * difference over `batches` contiguous batches of the window, each one boundary term; a
   * jackknife or batch means would count B of them and overstate the error about √B-fold.
   */
  summary(
    batches = 5,
    window: 'all' | 'latter-half' = 'latter-half',
  ): { steps: number; full: Ratio; projected?: Ratio } {
    const ratio = (l: number[], r: number[]): Ratio => {
      const from = window === 'all' ? 0 : Math.floor(l.length / 2);
      const ls = l.slice(from),
        rs = r.slice(from);
      const ml = mean(ls),
        mr = mean(rs);
      const b = Math.min(batches, ls.length),
        size = ls.length / b;
      const bounds = Array.from({ length: b + 1 }, (_, i) => Math.round(i * size));
      const boundary = Array.from({ length: b }, (_, i) => {
        let d = 0;
        for (let k = bounds[i]!; k < bounds[i + 1]!; k++) d += ls[k]! - rs[k]!;
        return d;
      });
      const md = mean(boundary);
      const sd = b >= 2 ? Math.sqrt(boundary.reduce((a, x) => a + (x - md) ** 2, 0) / (b - 1)) : NaN;
      const stderr = sd / Math.abs(mr * ls.length);
      return { left: ml, right: mr, deviation: Math.abs(ml / mr - 1), stderr, batches: b };
    };
    return {
      steps: this.left.length,
      full: ratio(this.left, this.right),
      projected: this.basis.length ? ratio(this.leftProjected, this.rightProjected) : undefined,
    };
  }
}

export interface Ratio {
  left: number;
  right: number;
  /** |⟨O_L⟩/⟨O_R⟩ − 1|: below ~1e-2 means the dynamics are stationary in that space. */
  deviation: number;
  /** Standard error of ⟨O_L⟩/⟨O_R⟩ (so of the deviation): the spread of the batches' boundary terms. */
  stderr: number;
  batches: number;
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}
