/**
 * An independent float64 reference for the one-hidden-layer MLP with label-smoothing cross
 * entropy: loss, gradient and Hessian-vector product by Pearlmutter's R-operator, written out
 * by hand in plain loops (no tfjs). Parameter layout matches Model's flat vector:
 * fc1.weight [d, h] row-major, fc1.bias [h], fc2.weight [h, K], fc2.bias [K].
 */

export interface MlpProblem {
  d: number;
  h: number;
  k: number;
  x: Float64Array; // [n, d]
  labels: Int32Array; // [n]
  smoothing: number;
  activation: 'relu' | 'softplus';
}

function act(z: number, kind: 'relu' | 'softplus'): [number, number, number] {
  if (kind === 'relu') return [Math.max(z, 0), z > 0 ? 1 : 0, 0];
  const s = 1 / (1 + Math.exp(-z));
  return [z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)), s, s * (1 - s)];
}

/** Loss, gradient and (if v is given) H·v at theta. */
export function mlpReference(
  p: MlpProblem,
  theta: ArrayLike<number>,
  v?: ArrayLike<number>,
): { loss: number; grad: Float64Array; hv: Float64Array } {
  const { d, h, k } = p;
  const n = p.labels.length;
  const oW1 = 0,
    oB1 = d * h,
    oW2 = oB1 + h,
    oB2 = oW2 + h * k,
    size = oB2 + k;
  const grad = new Float64Array(size),
    hv = new Float64Array(size);
  const dir = v ?? new Float64Array(size);
  let total = 0;
  for (let s = 0; s < n; s++) {
    const x = p.x.subarray(s * d, (s + 1) * d);
    const z1 = new Float64Array(h),
      rz1 = new Float64Array(h);
    for (let j = 0; j < h; j++) {
      let a = theta[oB1 + j]!,
        r = dir[oB1 + j]!;
      for (let i = 0; i < d; i++) {
        a += x[i]! * theta[oW1 + i * h + j]!;
        r += x[i]! * dir[oW1 + i * h + j]!;
      }
      z1[j] = a;
      rz1[j] = r;
    }
    const a = new Float64Array(h),
      s1 = new Float64Array(h),
      s2 = new Float64Array(h),
      ra = new Float64Array(h);
    for (let j = 0; j < h; j++) {
      [a[j], s1[j], s2[j]] = act(z1[j]!, p.activation);
      ra[j] = s1[j]! * rz1[j]!;
    }
    const z2 = new Float64Array(k),
      rz2 = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      let z = theta[oB2 + c]!,
        r = dir[oB2 + c]!;
      for (let j = 0; j < h; j++) {
        z += a[j]! * theta[oW2 + j * k + c]!;
        r += ra[j]! * theta[oW2 + j * k + c]! + a[j]! * dir[oW2 + j * k + c]!;
      }
      z2[c] = z;
      rz2[c] = r;
    }
    const m = Math.max(...z2);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(z2[c]! - m);
    const lse = m + Math.log(sum);
    const prob = Float64Array.from(z2, (z) => Math.exp(z - lse));
    const t = Float64Array.from({ length: k }, (_, c) => (c === p.labels[s] ? 1 - p.smoothing : 0) + p.smoothing / k);
    total += lse - t.reduce((acc, tc, c) => acc + tc * z2[c]!, 0);
    const pr = prob.reduce((acc, pc, c) => acc + pc * rz2[c]!, 0);
    const d2 = Float64Array.from(prob, (pc, c) => (pc - t[c]!) / n);
    const rd2 = Float64Array.from(prob, (pc, c) => (pc * (rz2[c]! - pr)) / n);
    const back = new Float64Array(h),
      rback = new Float64Array(h);
    for (let j = 0; j < h; j++) {
      for (let c = 0; c < k; c++) {
        grad[oW2 + j * k + c]! += a[j]! * d2[c]!;
        hv[oW2 + j * k + c]! += ra[j]! * d2[c]! + a[j]! * rd2[c]!;
        back[j]! += theta[oW2 + j * k + c]! * d2[c]!;
        rback[j]! += dir[oW2 + j * k + c]! * d2[c]! + theta[oW2 + j * k + c]! * rd2[c]!;
      }
    }
    for (let c = 0; c < k; c++) {
      grad[oB2 + c]! += d2[c]!;
      hv[oB2 + c]! += rd2[c]!;
    }
    for (let j = 0; j < h; j++) {
      const d1 = s1[j]! * back[j]!;
      const rd1 = s2[j]! * rz1[j]! * back[j]! + s1[j]! * rback[j]!;
      grad[oB1 + j]! += d1;
      hv[oB1 + j]! += rd1;
      for (let i = 0; i < d; i++) {
        grad[oW1 + i * h + j]! += x[i]! * d1;
        hv[oW1 + i * h + j]! += x[i]! * rd1;
      }
    }
  }
  return { loss: total / n, grad, hv };
}
