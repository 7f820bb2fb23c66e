import type { LinearOperator } from '../linalg/linear-operator';
import { jsKernels, rowsOf } from '../linalg/dense-kernels';
import { axpy, dot, invertUpper, thinQr } from '../linalg/vectors';
import { gaussian, rademacher } from './probes';

/** Probe distribution: Rademacher (the default) or standard Gaussian. */
export type ProbeKind = 'rademacher' | 'gaussian';

/** Probes drawn lately, by (kind, dim, seed, index, stream); at most {@link PROBE_MEMO_BYTES} in all. */
const probeMemo = new Map<string, Float64Array>();
const PROBE_MEMO_BYTES = 64 << 20;
let probeMemoBytes = 0;

/**
 * The probe vector for (seed, index): a pure function of them, so a path's estimates (one seed,
 * the same probes at every point) draw each once per process. Drawing one is 10 Philox rounds
 * per 4 entries in JavaScript: 51 ms for XTrace's 15 on fig1's 106k-parameter MLP, a seventh of
 * the estimate. A copy is returned: callers may write to it.
 */
function probe(kind: ProbeKind | undefined, dim: number, seed: number, index: number, stream: string): Float64Array {
  const id = `${kind ?? 'rademacher'}/${dim}/${seed}/${index}/${stream}`;
  let v = probeMemo.get(id);
  if (v) {
    probeMemo.delete(id); // most recently used last
    probeMemo.set(id, v);
    return Float64Array.from(v);
  }
  v = kind === 'gaussian' ? gaussian(dim, seed, index, stream) : rademacher(dim, seed, index, stream);
  if (v.byteLength <= PROBE_MEMO_BYTES / 8) {
    probeMemo.set(id, v);
    probeMemoBytes += v.byteLength;
    for (const [k, old] of probeMemo) {
      if (probeMemoBytes <= PROBE_MEMO_BYTES) break;
      probeMemo.delete(k);
      probeMemoBytes -= old.byteLength;
    }
  }
  return Float64Array.from(v);
}

/** A trace estimate with its standard error and cost in operator products. */
export interface TraceEstimate {
  value: number;
  stderr: number;
  method: 'hutchinson' | 'hutch++' | 'xtrace' | 'exact';
  matvecs: number;
}

/**
 * Girard-Hutchinson with Rademacher probes (Bai, Fahey & Golub 1996; Hutchinson 1989):
 * tr(A) ≈ mean zᵀAz. Runs `probes` products, or with `targetStderr` keeps adding probes (from
 * `minProbes`, up to `probes`) until the standard error of the mean falls below it.
 */
export async function hutchinson(
  op: LinearOperator,
  opts: { probes: number; seed: number; targetStderr?: number; minProbes?: number; probe?: ProbeKind },
): Promise<TraceEstimate> {
  const samples: number[] = [];
  const minProbes = Math.max(2, opts.minProbes ?? 10);
  for (let i = 0; i < opts.probes; i++) {
    const z = probe(opts.probe, op.dim, opts.seed, i, 'probe/rademacher');
    samples.push(dot(z, await op.apply(z)));
    if (opts.targetStderr !== undefined && samples.length >= minProbes && standardError(samples) <= opts.targetStderr)
      break;
  }
  return { value: mean(samples), stderr: standardError(samples), method: 'hutchinson', matvecs: samples.length };
}

/**
 * Hutch++ (Meyer, Musco, Musco & Woodruff 2021): a third of the products sketch the top of the
 * spectrum exactly, the rest run Hutchinson on the deflated remainder. `matvecs` is rounded
 * down to a multiple of 3.
 */
export async function hutchPlusPlus(
  op: LinearOperator,
  opts: { matvecs: number; seed: number; probe?: ProbeKind },
): Promise<TraceEstimate> {
  const k = Math.floor(opts.matvecs / 3);
  if (k < 1) throw new RangeError(`hutch++ needs at least 3 products, got ${opts.matvecs}`);
  const sketch = await Promise.all(
    Array.from({ length: k }, (_, i) => op.apply(probe(opts.probe, op.dim, opts.seed, i, 'probe/hutch++/sketch'))),
  );
  const { q } = thinQr(sketch);
  let top = 0;
  for (const qi of q) top += dot(qi, await op.apply(qi));
  const deflate = (v: Float64Array): Float64Array => {
    const out = Float64Array.from(v);
    for (const qi of q) axpy(-dot(qi, out), qi, out);
    return out;
  };
  const rest: number[] = [];
  for (let i = 0; i < k; i++) {
    const g = deflate(probe(opts.probe, op.dim, opts.seed, i, 'probe/hutch++/rest'));
    rest.push(dot(g, await op.apply(g)));
  }
  return { value: top + mean(rest), stderr: standardError(rest), method: 'hutch++', matvecs: 3 * k };
}

/**
 * XTrace (Epperly, Tropp & Webber 2024): Hutch++'s variance reduction with every probe used
 * both in the low-rank sketch and, leave-one-out, as a Hutchinson probe; the estimate is the
 * mean of the k leave-one-out estimates, its error their standard error. `matvecs` is rounded
 * down to an even number.
 */
export async function xtrace(
  op: LinearOperator,
  opts: { matvecs: number; seed: number; probe?: ProbeKind },
): Promise<TraceEstimate> {
  const k = Math.floor(opts.matvecs / 2);
  if (k < 2) throw new RangeError(`xtrace needs at least 4 products, got ${opts.matvecs}`);
  const n = op.dim;
  const kern = op.kernels ?? jsKernels;
  // The k probes W, their products Y = AW, the basis Q of Y and Z = AQ: k contiguous rows each.
  const W = new Float64Array(k * n),
    Y = new Float64Array(k * n),
    Z = new Float64Array(k * n);
  const w = rowsOf(W, k),
    y = rowsOf(Y, k);
  w.forEach((row, i) => row.set(probe(opts.probe, n, opts.seed, i, 'probe/xtrace')));
  (await Promise.all(w.map((row) => op.apply(row)))).forEach((row, i) => y[i]!.set(row));
  const { q: Q, r } = kern.qr(Y, k);
  (await Promise.all(rowsOf(Q, k).map((row) => op.apply(row)))).forEach((row, i) => Z.set(row, i * n));
  // S = R^{-T} with normalized columns: Q_i Q_iᵀ = Q (I − s_i s_iᵀ) Qᵀ is the basis without probe i.
  const rInv = invertUpper(r, k); // R^{-1}; (R^{-T})[a][j] = rInv[j][a]
  const s: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const col = Float64Array.from({ length: k }, (_, a) => rInv[j * k + a]!);
    const norm = Math.sqrt(dot(col, col));
    s.push(col.map((x) => x / norm));
  }
  // Every n-long reduction at once (k×k each); below, only k-vectors. With P_i = I − Q M_i Qᵀ and
  // M_i = I − s_i s_iᵀ:
  //   wᵢᵀ P_i A P_i wᵢ = wᵢᵀyᵢ − (ZᵀW)ᵢ·c − (QᵀW)ᵢ·M_i(QᵀYᵢ − QᵀZ c),
  // c = M_i (QᵀW)ᵢ, A not assumed symmetric (its products are float32 double backprop).
  const qw = kern.gram(Q, k, W, k),
    qy = kern.gram(Q, k, Y, k),
    qz = kern.gram(Q, k, Z, k), // QᵀAQ
    zw = kern.gram(Z, k, W, k);
  let trQtAQ = 0;
  for (let a = 0; a < k; a++) trQtAQ += qz[a * k + a]!;
  const column = (m: Float64Array, i: number): Float64Array =>
    Float64Array.from({ length: k }, (_, a) => m[a * k + i]!);
  const deflate = (c: Float64Array, si: Float64Array): Float64Array => {
    const d = dot(si, c);
    return c.map((x, a) => x - d * si[a]!);
  };
  const estimates: number[] = [];
  for (let i = 0; i < k; i++) {
    const si = s[i]!;
    // sᵢᵀ (QᵀAQ) sᵢ: the part of tr(QᵀAQ) that probe i alone contributes.
    let sAs = 0;
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) sAs += si[a]! * qz[a * k + b]! * si[b]!;
    const u = column(qw, i); // Qᵀw
    const c = deflate(u, si);
    // wᵀ A P w = wᵀy − Σ_b c_b (z_b·w)
    let wApw = dot(w[i]!, y[i]!);
    for (let b = 0; b < k; b++) wApw -= c[b]! * zw[b * k + i]!;
    // Qᵀ A P w = Qᵀy − (QᵀAQ) c, deflated
    const g = column(qy, i);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) g[a]! -= qz[a * k + b]! * c[b]!;
    const d = deflate(g, si);
    estimates.push(trQtAQ - sAs + wApw - dot(u, d));
  }
  return { value: mean(estimates), stderr: standardError(estimates), method: 'xtrace', matvecs: 2 * k };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function standardError(xs: number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) / xs.length);
}
