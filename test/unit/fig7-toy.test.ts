import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeSafetensors, encodeSafetensors } from '../../src/checkpoint/safetensors';
import { CONFIDENCE, equilibriumEstimates, fig7Claims, noisyEquilibrium } from '../../src/experiments/fig7/analysis';
import { fig7Params, type Fig7Params } from '../../src/experiments/fig7/definition';
import { advance, fromTensors, initialState, toTensors } from '../../src/experiments/fig7/toy';
import { DivergenceError } from '../../src/train/divergence';
import { planRun } from '../../src/experiments/registry';
import { mean, std } from '../../src/stats/statistics';

const params = (sets: string[] = []): Fig7Params => fig7Params.check('fig7', planRun('fig7', 'default', sets).params);

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
  const run = (variant: 'gd' | 'noisy', seed: number): number => {
    const s = initialState(p);
    advance(s, p, variant, seed, 1000);
    return s.theta1;
  };
  assert.notEqual(run('noisy', 1), run('noisy', 2));
  assert.equal(run('gd', 1), run('gd', 2));
});

test('the default run reproduces appendix A.6: noisy θ2 settles at −2α/(ηc), GD θ2 keeps falling', () => {
  const p = params();
  const gd = initialState(p),
    noisy = initialState(p);
  advance(gd, p, 'gd', 1, p.steps);
  advance(noisy, p, 'noisy', 1, p.steps);
  const claims = fig7Claims(p, noisy.samples);
  for (const c of claims)
    assert.equal(c.verdict, 'pass', `${c.id}: predicted ${c.predicted}, measured ${c.measured} ± ${c.tolerance}`);
  assert.ok(Math.abs(gd.theta1) < 1e-12, 'GD collapses θ1');
  assert.ok(gd.theta2 < -0.8, `GD θ2 slid down the slope to ${gd.theta2}`);
});

test(
  'the claims fail when the physics is wrong: without noise θ2 never settles, ' +
    'and with mis-scaled noise it settles elsewhere',
  () => {
    const p = params();
    const gd = initialState(p);
    advance(gd, p, 'gd', 1, p.steps);
    const [equilibrium] = fig7Claims(p, gd.samples);
    assert.equal(equilibrium!.verdict, 'fail');
    assert.match(equilibrium!.note!, /did not settle/);
    // noise twice as strong as the parameters say: the run is fine, the prediction (for c = 1) is not
    const strong = initialState(p);
    advance(strong, { ...p, noise: 2 }, 'noisy', 1, p.steps);
    const claims = fig7Claims(p, strong.samples);
    assert.equal(claims[0]!.verdict, 'fail', `θ2 ${claims[0]!.measured} against ${claims[0]!.predicted}`);
    assert.equal(claims[1]!.verdict, 'fail', `θ1² ${claims[1]!.measured} against ${claims[1]!.predicted}`);
  },
);

test(
  'calibration: over 100 seeds of the default run the equilibrium claim fails as rarely as its 99% confidence says, ' +
    'and its error matches the seed-to-seed spread',
  () => {
    const p = params();
    const measured: number[] = [],
      stderrs: number[] = [];
    let failed = 0;
    const gd = initialState(p);
    advance(gd, p, 'gd', 1, p.steps);
    for (let seed = 1; seed <= 100; seed++) {
      const noisy = initialState(p);
      advance(noisy, p, 'noisy', seed, p.steps);
      const c = fig7Claims(p, noisy.samples).find((x) => x.id === 'noisy-theta2-equilibrium')!;
      assert.notEqual(c.verdict, 'inconclusive', `seed ${seed}: ${c.note}`);
      if (c.verdict === 'fail') failed++;
      measured.push(c.measured);
      stderrs.push(equilibriumEstimates(p, noisy.samples).theta2.stderr);
    }
    assert.equal(CONFIDENCE, 0.99);
    // Binomial(100, 0.01): P(X ≥ 5) = 0.003. The fixed 20 batch means of before failed ~5 in 100.
    assert.ok(failed <= 4, `${failed} of 100 seeds of a correct run failed a 99% claim`);
    // The stated standard error against the real spread over seeds (the fixed 20 batches of before: ~1.5).
    const ratio = std(measured) / mean(stderrs);
    assert.ok(ratio > 0.8 && ratio < 1.25, `seed-to-seed spread / stated standard error = ${ratio.toFixed(2)}`);
    const ensembleError = std(measured) / Math.sqrt(measured.length);
    assert.ok(
      Math.abs(mean(measured) - noisyEquilibrium(p).theta2) < 3 * ensembleError,
      `mean over seeds ${mean(measured)} vs theory ${noisyEquilibrium(p).theta2}`,
    );
  },
);

test('a series too short for independent batches gives an inconclusive verdict, never a pass', () => {
  const p = params(['steps=200000']);
  const gd = initialState(p),
    noisy = initialState(p);
  advance(gd, p, 'gd', 1, p.steps);
  advance(noisy, p, 'noisy', 1, p.steps);
  const c = fig7Claims(p, noisy.samples).find((x) => x.id === 'noisy-theta2-equilibrium')!;
  assert.equal(c.verdict, 'inconclusive');
  assert.match(c.note!, /raise --set steps/);
});

test('divergence is reported as such', () => {
  const p = params(['lr=1.9', 'noise=100', 'steps=5000', 'theta0=0.1,0.1']);
  assert.throws(
    () => {
      const s = initialState(p);
      advance(s, p, 'noisy', 1, 5000);
    },
    (e: Error) => e instanceof DivergenceError && /diverged/.test(e.message),
  );
});
