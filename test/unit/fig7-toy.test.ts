import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromTensors, toTensors } from '../../activities/advance-toy-trajectory';
import { decodeSafetensors, encodeSafetensors } from '../../src/checkpoint/safetensors';
import { fig7Claims } from '../../src/experiments/fig7/analysis';
import { advance, initialState, type Fig7Params } from '../../src/experiments/fig7/toy';
import { DivergenceError } from '../../src/train/divergence';
import { planRun } from '../../src/experiments/registry';

const params = (sets: string[] = []): Fig7Params => planRun('fig7', 'default', sets).params as unknown as Fig7Params;

test('replaying [a, b) from a serialized checkpoint reproduces the trajectory bit for bit', () => {
  const p = params(['steps=30000']);
  for (const variant of ['gd', 'noisy'] as const) {
    const straight = initialState(p);
    advance(straight, p, variant, 11, 30_000);
    const first = initialState(p);
    advance(first, p, variant, 11, 12_345);
    const restored = fromTensors(decodeSafetensors(encodeSafetensors(toTensors(first))).tensors);
    advance(restored, p, variant, 11, 30_000);
    assert.deepEqual(restored, straight, variant);
  }
});

test('the noise depends on the seed; GD does not', () => {
  const p = params(['steps=1000']);
  const run = (variant: 'gd' | 'noisy', seed: number): number => { const s = initialState(p); advance(s, p, variant, seed, 1000); return s.theta1; };
  assert.notEqual(run('noisy', 1), run('noisy', 2));
  assert.equal(run('gd', 1), run('gd', 2));
});

test('the default run reproduces appendix A.6: noisy θ2 settles at −2α/(ηc), GD θ2 keeps falling', () => {
  const p = params();
  const gd = initialState(p), noisy = initialState(p);
  advance(gd, p, 'gd', 1, p.steps);
  advance(noisy, p, 'noisy', 1, p.steps);
  const claims = fig7Claims(p, gd.samples, noisy.samples);
  for (const c of claims) assert.equal(c.verdict, 'pass', `${c.id}: predicted ${c.predicted}, measured ${c.measured} ± ${c.tolerance}`);
  assert.ok(Math.abs(gd.theta1) < 1e-12, 'GD collapses θ1');
  assert.ok(gd.theta2 < -0.8, `GD θ2 slid down the slope to ${gd.theta2}`);
});

test('the claims fail when the physics is wrong: without noise the equilibrium claim fails', () => {
  const p = params(['steps=200000']);
  const gd = initialState(p);
  advance(gd, p, 'gd', 1, p.steps);
  const [equilibrium] = fig7Claims(p, gd.samples, gd.samples);
  assert.equal(equilibrium!.verdict, 'fail');
});

test('divergence is reported as such', () => {
  const p = params(['lr=1.9', 'noise=100', 'steps=5000', 'theta0=0.1,0.1']);
  assert.throws(() => { const s = initialState(p); advance(s, p, 'noisy', 1, 5000); }, (e: Error) => e instanceof DivergenceError && /diverged/.test(e.message));
});
