/**
 * Eigenvalues of real symmetric matrices in float64: Householder reduction to tridiagonal form
 * and the implicit QL algorithm (Numerical Recipes' tred2/tqli, eigenvalues only), plus the
 * tridiagonal solver alone for Lanczos. O(n³) flops: the 6220-parameter MLP's Hessian takes
 * minutes in JS, small models milliseconds.
 */

/** Eigenvalues (ascending) of a symmetric tridiagonal matrix: diagonal d, off-diagonal e (length n-1). */
export function tridiagonalEigenvalues(diagonal: ArrayLike<number>, offDiagonal: ArrayLike<number>): Float64Array {
  const n = diagonal.length;
  const d = Float64Array.from(diagonal);
  const e = new Float64Array(n);
  for (let i = 0; i < n - 1; i++) e[i] = offDiagonal[i]!;
  tqli(d, e);
  return d.sort();
}

/**
 * Eigenvalues (ascending) and eigenvectors (columns of `vectors`, row-major n×n) of a small
 * symmetric tridiagonal matrix.
 */
export function tridiagonalEigenFull(
  diagonal: ArrayLike<number>,
  offDiagonal: ArrayLike<number>,
): { values: Float64Array; vectors: Float64Array[] } {
  const n = diagonal.length;
  const d = Float64Array.from(diagonal);
  const e = new Float64Array(n);
  for (let i = 0; i < n - 1; i++) e[i] = offDiagonal[i]!;
  const z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) z[i * n + i] = 1;
  tqli(d, e, z);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[a]! - d[b]!);
  return {
    values: Float64Array.from(order, (i) => d[i]!),
    vectors: order.map((i) => Float64Array.from({ length: n }, (_, r) => z[r * n + i]!)),
  };
}

/** Eigenvalues (ascending) of a dense symmetric n×n matrix, row-major. The input is not modified. */
export function symmetricEigenvalues(matrix: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(matrix);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  householderTridiagonal(a, n, d, e);
  // tqli wants e[i] = off-diagonal between i and i+1
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  tqli(d, e);
  return d.sort();
}

/** Householder reduction (tred2 without accumulating the transform). */
function householderTridiagonal(a: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    let h = 0;
    if (l > 0) {
      let scaleSum = 0;
      for (let k = 0; k <= l; k++) scaleSum += Math.abs(a[i * n + k]!);
      if (scaleSum === 0) {
        e[i] = a[i * n + l]!;
      } else {
        for (let k = 0; k <= l; k++) {
          a[i * n + k]! /= scaleSum;
          h += a[i * n + k]! ** 2;
        }
        let f = a[i * n + l]!;
        const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scaleSum * g;
        h -= f * g;
        a[i * n + l] = f - g;
        f = 0;
        for (let j = 0; j <= l; j++) {
          let gj = 0;
          for (let k = 0; k <= j; k++) gj += a[j * n + k]! * a[i * n + k]!;
          for (let k = j + 1; k <= l; k++) gj += a[k * n + j]! * a[i * n + k]!;
          e[j] = gj / h;
          f += e[j]! * a[i * n + j]!;
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          const fj = a[i * n + j]!;
          const gj = (e[j] = e[j]! - hh * fj);
          for (let k = 0; k <= j; k++) a[j * n + k]! -= fj * e[k]! + gj * a[i * n + k]!;
        }
      }
    } else {
      e[i] = a[i * n + l]!;
    }
    d[i] = h;
  }
  e[0] = 0;
  for (let i = 0; i < n; i++) d[i] = a[i * n + i]!;
}

/**
 * Implicit QL with Wilkinson shifts; d: diagonal (→ eigenvalues), e: off-diagonal,
 * z: optional eigenvectors (row-major n×n).
 */
function tqli(d: Float64Array, e: Float64Array, z?: Float64Array): void {
  const n = d.length;
  // NaN never deflates: without this the iteration runs out with no word of why.
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(d[i]!) || !Number.isFinite(e[i]!))
      throw new RangeError('eigenvalues of a matrix with NaN or infinite entries: its inputs are not finite');
  // Deflate off-diagonals that are negligible next to their neighbours or next to the whole
  // matrix: Hessians of overparameterized nets have large blocks of (numerically) zero
  // eigenvalues, where a purely relative test never fires. Both tests are backward stable.
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(d[i]!) + Math.abs(e[i]!));
  const floor = Number.EPSILON * scale;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m: number;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Number.EPSILON * dd || Math.abs(e[m]!) <= floor) break;
      }
      if (m !== l) {
        if (iter++ === 100) throw new Error('eigenvalues: the QL iteration did not converge in 100 iterations');
        let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
        let r = Math.hypot(g, 1);
        g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
        let s = 1,
          c = 1,
          p = 0;
        let i: number;
        for (i = m - 1; i >= l; i--) {
          let f = s * e[i]!;
          const b = c * e[i]!;
          e[i + 1] = r = Math.hypot(f, g);
          if (r === 0) {
            d[i + 1]! -= p;
            e[m] = 0;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1]! - p;
          r = (d[i]! - g) * s + 2 * c * b;
          d[i + 1] = g + (p = s * r);
          g = c * r - b;
          if (z) {
            for (let k = 0; k < n; k++) {
              f = z[k * n + i + 1]!;
              z[k * n + i + 1] = s * z[k * n + i]! + c * f;
              z[k * n + i] = c * z[k * n + i]! - s * f;
            }
          }
        }
        if (r === 0 && i >= l) continue;
        d[l]! -= p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
}
