/** `repro hessian` as a user runs it: template weights, exact and estimated spectra, one-line errors. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { encodeSafetensors } from '../src/checkpoint/safetensors';
import { decodeWeights } from '../src/models/weights-io';
import { buildModel } from '../src/models/model';
import { CounterRng } from '../src/rng/philox';
import { mlpReference } from './reference/mlp-float64';
import { runCli } from './helpers';
import { readFileSync } from 'node:fs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'repro-hessian-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => path.join(dir, name);

const rng = new CounterRng(11, 'test/hessian-data');
const x = Float32Array.from({ length: 40 * 12 }, (_, i) => rng.normal(0, i));
const y = Int32Array.from({ length: 40 }, (_, i) => i % 4);
writeFileSync(
  file('d.safetensors'),
  encodeSafetensors({ x: { dtype: 'F32', shape: [40, 12], data: x }, y: { dtype: 'I32', shape: [40], data: y } }),
);

test('template weights, then the exact trace matches the float64 reference and the spectrum sums to it', () => {
  const t = runCli([
    'hessian',
    '--model',
    'mlp:12-6-4',
    '--init-seed',
    '2',
    '--save-weights',
    file('w.safetensors'),
    '--json',
  ]);
  assert.equal(t.status, 0, t.stderr);
  assert.equal(JSON.parse(t.stdout).params, 12 * 6 + 6 + 6 * 4 + 4);
  const r = runCli([
    'hessian',
    '--model',
    'mlp:12-6-4',
    '--weights',
    file('w.safetensors'),
    '--data',
    file('d.safetensors'),
    '--exact',
    '--top',
    '3',
    '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const k of ['params', 'loss', 'trace', 'eigenvalues', 'backend']) assert.ok(k in out, k);
  assert.equal(out.trace.method, 'exact');
  assert.equal(out.eigenvalues.top.length, 3);
  // reference trace: Σ e_kᵀ H e_k in float64
  const model = buildModel('mlp:12-6-4');
  const theta = decodeWeights(model, new Uint8Array(readFileSync(file('w.safetensors'))), 'w');
  const problem = {
    d: 12,
    h: 6,
    k: 4,
    x: Float64Array.from(x),
    labels: y,
    smoothing: 0.1,
    activation: 'relu' as const,
  };
  let trace = 0;
  for (let k = 0; k < model.paramCount; k++) {
    const e = new Float64Array(model.paramCount);
    e[k] = 1;
    trace += mlpReference(problem, theta, e).hv[k]!;
  }
  assert.ok(Math.abs(out.trace.value - trace) < 1e-4 * Math.abs(trace), `${out.trace.value} vs ${trace}`);
  assert.ok(
    Math.abs(out.loss - mlpReference(problem, theta).loss) < 1e-5,
    `loss ${out.loss} vs ${mlpReference(problem, theta).loss}`,
  );
  assert.ok(out.eigenvalues.negativeSum <= 0 && out.eigenvalues.negativeCount >= 0);
});

test('estimated trace (XTrace) agrees with the exact one within its error', () => {
  const exact = JSON.parse(
    runCli([
      'hessian',
      '--model',
      'mlp:12-6-4',
      '--weights',
      file('w.safetensors'),
      '--data',
      file('d.safetensors'),
      '--exact',
      '--json',
    ]).stdout,
  );
  const est = JSON.parse(
    runCli([
      'hessian',
      '--model',
      'mlp:12-6-4',
      '--weights',
      file('w.safetensors'),
      '--data',
      file('d.safetensors'),
      '--probes',
      '40',
      '--json',
    ]).stdout,
  );
  assert.equal(est.trace.method, 'xtrace');
  assert.equal(est.trace.hvps, 40);
  assert.ok(
    Math.abs(est.trace.value - exact.trace.value) < 5 * est.trace.stderr + 1e-6,
    `${est.trace.value} ± ${est.trace.stderr} vs ${exact.trace.value}`,
  );
  assert.ok(
    Math.abs(est.eigenvalues.top[0] - exact.eigenvalues.top[0]) < 1e-3 * Math.abs(exact.eigenvalues.top[0]),
    'Lanczos finds the top eigenvalue',
  );
});

test('bad weights and data are one-line errors naming the tensor', () => {
  const bad = (args: string[], re: RegExp): void => {
    const r = runCli(['hessian', '--model', 'mlp:12-6-4', ...args]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  };
  writeFileSync(
    file('w-missing.safetensors'),
    encodeSafetensors({ 'fc1.weight': { dtype: 'F32', shape: [12, 6], data: new Float32Array(72) } }),
  );
  bad(['--weights', file('w-missing.safetensors'), '--data', file('d.safetensors')], /tensor 'fc1.bias' is missing/);
  writeFileSync(
    file('w-shape.safetensors'),
    encodeSafetensors({ 'fc1.weight': { dtype: 'F32', shape: [6, 12], data: new Float32Array(72) } }),
  );
  bad(
    ['--weights', file('w-shape.safetensors'), '--data', file('d.safetensors')],
    /tensor 'fc1.weight' has shape \[6,12\], expected \[12,6\]/,
  );
  writeFileSync(
    file('d-labels.safetensors'),
    encodeSafetensors({
      x: { dtype: 'F32', shape: [2, 12], data: new Float32Array(24) },
      y: { dtype: 'I32', shape: [2], data: Int32Array.of(1, 9) },
    }),
  );
  bad(
    ['--weights', file('w.safetensors'), '--data', file('d-labels.safetensors')],
    /tensor 'y': label 9 of sample 1 is outside 0..3/,
  );
  writeFileSync(
    file('d-x.safetensors'),
    encodeSafetensors({
      x: { dtype: 'F32', shape: [3, 12], data: new Float32Array(36) },
      y: { dtype: 'I32', shape: [2], data: Int32Array.of(1, 0) },
    }),
  );
  bad(
    ['--weights', file('w.safetensors'), '--data', file('d-x.safetensors')],
    /tensor 'x' has shape \[3,12\], expected \[2, ...\]/,
  );
  bad(['--weights', file('w.safetensors')], /--data is required/);
  const r = runCli([
    'hessian',
    '--model',
    'resnet99',
    '--weights',
    file('w.safetensors'),
    '--data',
    file('d.safetensors'),
  ]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown model 'resnet99'/);
});
