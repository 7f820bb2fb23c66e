/** Small float64 vector kernels used by the estimators (host side, exact order of summation). */

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** y ← y + alpha·x, in place. */
export function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += alpha * x[i]!;
}

/**
 * Thin QR of the columns (modified Gram-Schmidt, run twice for orthogonality to machine
 * precision). Returns Q's columns and R (k×k, row-major, upper triangular).
 */
export function thinQr(columns: Float64Array[]): { q: Float64Array[]; r: Float64Array } {
  const k = columns.length;
  const q = columns.map((c) => Float64Array.from(c));
  const r = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const c = dot(q[i]!, q[j]!);
        r[i * k + j]! += c;
        axpy(-c, q[i]!, q[j]!);
      }
    }
    const n = norm(q[j]!);
    r[j * k + j] = n;
    if (n > 0) for (let t = 0; t < q[j]!.length; t++) q[j]![t]! /= n;
  }
  return { q, r };
}

/** Inverse of an upper-triangular k×k matrix (row-major). */
export function invertUpper(r: Float64Array, k: number): Float64Array {
  const inv = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    inv[j * k + j] = 1 / r[j * k + j]!;
    for (let i = j - 1; i >= 0; i--) {
      let s = 0;
      for (let t = i + 1; t <= j; t++) s += r[i * k + t]! * inv[t * k + j]!;
      inv[i * k + j] = -s / r[i * k + i]!;
    }
  }
  return inv;
}
