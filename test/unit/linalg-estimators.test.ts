import assert from 'node:assert/strict';
import { test } from 'node:test';
import { denseOperator } from '../../src/linalg/linear-operator';
import { symmetricEigenvalues, tridiagonalEigenvalues } from '../../src/linalg/symmetric-eigen';
import { dot, thinQr } from '../../src/linalg/vectors';
import { lanczosEigenvalues, stochasticLanczosQuadrature, densityIntegral } from '../../src/hessian/lanczos';
import { gaussian, rademacher } from '../../src/hessian/probes';
import { summarizeSpectrum, logDetNonDegenerate } from '../../src/hessian/spectrum';
import { hutchinson, hutchPlusPlus, xtrace } from '../../src/hessian/trace-estimators';

/** A = Q diag(λ) Qᵀ with a random orthogonal Q: eigenvalues known exactly. */
function matrixWithSpectrum(lambda: number[], seed: number): Float64Array {
  const n = lambda.length;
  const { q } = thinQr(Array.from({ length: n }, (_, i) => gaussian(n, seed, i)));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[k]![i]! * lambda[k]! * q[k]![j]!;
      a[i * n + j] = s;
    }
  return a;
}

const decaying = (n: number): number[] =>
  Array.from({ length: n }, (_, i) => 100 / (1 + i) ** 1.5 - (i % 7 === 0 ? 0.05 : 0));

test('symmetric eigenvalues match the constructed spectrum', () => {
  const lambda = decaying(60);
  const got = symmetricEigenvalues(matrixWithSpectrum(lambda, 1), 60);
  const want = [...lambda].sort((a, b) => a - b);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-10 * 100, `λ${i}: ${g} vs ${want[i]}`));
});

test('tridiagonal eigenvalues of the 1-D Laplacian are 2 − 2cos(kπ/(n+1))', () => {
  const n = 50;
  const got = tridiagonalEigenvalues(new Array(n).fill(2), new Array(n - 1).fill(-1));
  got.forEach((g, i) => assert.ok(Math.abs(g - (2 - 2 * Math.cos(((i + 1) * Math.PI) / (n + 1)))) < 1e-12));
});

test('Hutchinson, Hutch++ and XTrace are unbiased and report honest errors', async () => {
  const lambda = decaying(120);
  const op = denseOperator(matrixWithSpectrum(lambda, 2), 120);
  const exact = lambda.reduce((a, b) => a + b, 0);
  for (const est of [
    await hutchinson(op, { probes: 60, seed: 1 }),
    await hutchPlusPlus(op, { matvecs: 60, seed: 1 }),
    await xtrace(op, { matvecs: 60, seed: 1 }),
  ]) {
    assert.equal(est.matvecs, 60, est.method);
    assert.ok(
      Math.abs(est.value - exact) < 5 * est.stderr + 1e-9,
      `${est.method}: ${est.value} vs ${exact} ± ${est.stderr}`,
    );
  }
});

test('with a decaying spectrum, Hutch++ and XTrace beat Hutchinson at equal cost (RMS over 30 seeds)', async () => {
  const lambda = decaying(120);
  const op = denseOperator(matrixWithSpectrum(lambda, 3), 120);
  const exact = lambda.reduce((a, b) => a + b, 0);
  const rms = async (f: (seed: number) => Promise<{ value: number }>): Promise<number> => {
    let s = 0;
    for (let seed = 0; seed < 30; seed++) s += ((await f(seed)).value - exact) ** 2;
    return Math.sqrt(s / 30);
  };
  const h = await rms((seed) => hutchinson(op, { probes: 30, seed }));
  const pp = await rms((seed) => hutchPlusPlus(op, { matvecs: 30, seed }));
  const x = await rms((seed) => xtrace(op, { matvecs: 30, seed }));
  assert.ok(pp < h / 3, `hutch++ ${pp} vs hutchinson ${h}`);
  assert.ok(x < h / 3, `xtrace ${x} vs hutchinson ${h}`);
});

test('error-targeted Hutchinson stops once the standard error is below the target', async () => {
  const op = denseOperator(matrixWithSpectrum(decaying(80), 4), 80);
  const est = await hutchinson(op, { probes: 1000, seed: 2, targetStderr: 10 });
  assert.ok(est.stderr <= 10 && est.matvecs < 1000 && est.matvecs >= 10, `${est.matvecs} probes, stderr ${est.stderr}`);
});

test('Lanczos finds the extreme eigenvalues; SLQ integrates tr f(A)', async () => {
  const lambda = decaying(150);
  const op = denseOperator(matrixWithSpectrum(lambda, 5), 150);
  const ritz = await lanczosEigenvalues(op, { steps: 40, seed: 1 });
  const [first, second] = [...lambda].sort((a, b) => b - a);
  assert.ok(Math.abs(ritz[ritz.length - 1]! - first!) < 1e-8, `top ${ritz[ritz.length - 1]} vs ${first}`);
  assert.ok(Math.abs(ritz[ritz.length - 2]! - second!) < 1e-6, `second ${ritz[ritz.length - 2]} vs ${second}`);
  // Gauss quadrature with 40 nodes is exact for polynomials of degree < 80: per probe z,
  // Σ w λ³ = zᵀA³z / ‖z‖².
  const density = await stochasticLanczosQuadrature(op, { steps: 40, probes: 1, seed: 1 });
  const z = rademacher(150, 1, 0, 'probe/slq');
  const a3z = await op.apply(await op.apply(await op.apply(z)));
  const exact = dot(z, a3z) / 150;
  assert.ok(
    Math.abs(densityIntegral(density, (x) => x ** 3) - exact) < 1e-9 * Math.abs(exact),
    `${densityIntegral(density, (x) => x ** 3)} vs ${exact}`,
  );
  assert.ok(Math.abs(densityIntegral(density, () => 1) - 1) < 1e-12, 'weights sum to 1');
});

test('spectrum summaries: negative sum and count, log-det of the non-degenerate part', () => {
  const s = summarizeSpectrum([3, -0.5, 1, 0, -0.25, 2], 2);
  assert.deepEqual(s, { top: [3, 2], negativeSum: -0.75, negativeCount: 2 });
  const ld = logDetNonDegenerate([3, 1e-9, 2, 0.5], 3, 1e-6);
  assert.equal(ld.used, 3);
  assert.ok(Math.abs(ld.value - Math.log(3 * 2 * 0.5)) < 1e-12);
});
