import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findStudy, planRun } from '../../src/experiments/registry';
import { runStudyLocally } from '../../src/experiments/run-locally';

const verdicts = (a: { claims: Array<{ id: string; verdict: string }> }): Record<string, string> =>
  Object.fromEntries(a.claims.map((c) => [c.id, c.verdict]));

test("fig2b: ΔT against η² has the slope theory gives at the run's settings, through the origin", async () => {
  const { params } = planRun('fig2b', 'small', []);
  const { analysis } = await runStudyLocally('fig2b', params, 1);
  assert.deepEqual(
    verdicts(analysis),
    { 'trace-decrease-slope': 'pass', 'proportional-to-eta-squared': 'pass' },
    JSON.stringify(analysis.claims, null, 1),
  );
  const slope = analysis.claims[0]!;
  assert.ok(slope.predicted < 0 && slope.interval!.hi < 0, 'the trace falls');
  assert.equal(analysis.figures.length, 1);
});

test('fig2b fails on a wrong result: runs whose noise is twice what the prediction assumes', async () => {
  const { params } = planRun('fig2b', 'small', []);
  const { outputs } = await runStudyLocally('fig2b', { ...params, noise: 0.1 }, 1);
  assert.equal(verdicts((await findStudy('fig2b').open(params)).analyze(outputs, 1))['trace-decrease-slope'], 'fail');
});

test('fig2b calibration: over 100 seeds of a correct run its 95% claims fail about 5 times in 100', async () => {
  const { params } = planRun('fig2b', 'small', []);
  const failed: Record<string, number> = { 'trace-decrease-slope': 0, 'proportional-to-eta-squared': 0 };
  for (let seed = 1; seed <= 100; seed++) {
    const { analysis } = await runStudyLocally('fig2b', params, seed);
    for (const c of analysis.claims) if (c.verdict !== 'pass') failed[c.id]!++;
  }
  // Binomial(100, 0.05): P(X ≥ 11) = 0.011. Intervals from 20 runs per η failed 9 in 100.
  for (const [id, n] of Object.entries(failed)) assert.ok(n <= 10, `${id} failed ${n} of 100 seeds`);
});

test(
  'fig2cd: SGD-like noise lowers the trace, isotropic noise log det, ' +
    'and each moves the other quantity the way theory says',
  async () => {
    const { params } = planRun('fig2cd', 'small', []);
    const { outputs, analysis } = await runStudyLocally('fig2cd', params, 1);
    assert.deepEqual(
      verdicts(analysis),
      {
        'sgd-noise-lowers-trace': 'pass',
        'isotropic-noise-lowers-logdet': 'pass',
        'sgd-logdet-direction': 'pass',
        'isotropic-trace-direction': 'pass',
      },
      JSON.stringify(analysis.claims, null, 1),
    );
    assert.ok(
      analysis.claims[2]!.side === 'positive' && analysis.claims[3]!.side === 'positive',
      'at the default start the two quantities move apart',
    );
    // a wrong result: the two noise structures swapped
    const swapped = (await findStudy('fig2cd').open(params)).analyze(
      { sgd: outputs.isotropic, isotropic: outputs.sgd },
      1,
    );
    assert.ok(
      swapped.claims.every((c) => c.verdict === 'fail'),
      JSON.stringify(swapped.claims.map((c) => [c.id, c.verdict])),
    );
  },
);
