import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fig2aAnalysis, lsceFloor } from '../../src/experiments/fig2a/analysis';
import { fig2aParams, type Fig2aParams } from '../../src/experiments/fig2a/definition';
import { fig5Analysis, type Fig5Output } from '../../src/experiments/fig5/analysis';
import { fig5Params } from '../../src/experiments/fig5/definition';
import { fig6Analysis } from '../../src/experiments/fig6/analysis';
import { fig6Params } from '../../src/experiments/fig6/definition';
import { noiseTopkAnalysis, type NoiseTopkOutput, type Variant } from '../../src/experiments/noise-topk/analysis';
import { noiseTopkParams } from '../../src/experiments/noise-topk/definition';
import { planRun } from '../../src/experiments/registry';
import type { Analysis } from '../../src/experiments/experiment';
import type { ParamSet, Params } from '../../src/experiments/params';
import { CounterRng } from '../../src/rng/philox';
import { driftTest, lineIntervals } from '../../src/stats/statistics';

// Each figure's analysis on synthetic outputs: a result the paper predicts passes, a wrong one
// fails, too little data is inconclusive. The end-to-end runs are in the study tests; these pin
// the decision rules, which no end-to-end run on a small preset can vary at will.

const verdicts = (a: Analysis): Record<string, string> => Object.fromEntries(a.claims.map((c) => [c.id, c.verdict]));
const params = <P extends Params>(name: string, set: ParamSet<P>): P =>
  set.check(name, planRun(name, 'small', []).params);

function fig2aPoints(p: Fig2aParams, slope: number, intercept: number, noise: number, seed = 1) {
  const rng = new CounterRng(seed, 'test/fig2a');
  let draw = 0;
  const rand = (): number => rng.uniform(0, draw++);
  const floor = lsceFloor(p.smoothing);
  return p.batches.flatMap((batch) =>
    p.lrs.map((lr) => {
      const excess = 0.002 + 0.05 * rand();
      return {
        batch,
        lr,
        trainLoss: floor + excess,
        negativeSum: intercept + slope * excess + noise * (rand() - 0.5),
        negativeSumStderr: noise / 4,
        negativeCount: 100,
        spectrum: 'exact (float64)',
        equilibration: {
          slope: 0,
          lo: -1e-6,
          hi: 1e-6,
          records: 100,
          tau: 1,
          effectiveSamples: 100,
          equilibrated: true,
        },
        losses: [] as Array<[number, number]>,
      };
    }),
  );
}

test(
  'fig2a: negative eigenvalues proportional to the loss above its floor pass; ' +
    "the paper's slope is checked, not assumed",
  () => {
    const p = params('fig2a', fig2aParams);
    const a = fig2aAnalysis(p, fig2aPoints(p, p.paperSlope, 0, 1e-3));
    assert.deepEqual(verdicts(a), {
      'negative-sum-falls-with-loss': 'pass',
      'negative-sum-proportional-to-loss': 'pass',
      'slope-matches-paper': 'pass',
    });
    const half = fig2aAnalysis(p, fig2aPoints(p, p.paperSlope / 2, 0, 1e-3));
    assert.equal(verdicts(half)['slope-matches-paper'], 'fail', "a slope half the paper's is told apart");
    assert.equal(verdicts(half)['negative-sum-falls-with-loss'], 'pass');
  },
);

test('fig2a leaves runs that are not equilibrated out of its fit and counts them; too few left is inconclusive', () => {
  const p = params('fig2a', fig2aParams);
  const points = fig2aPoints(p, p.paperSlope, 0, 1e-3);
  // Runs still descending with the wrong sign: were they fitted, the slope would fail.
  const drifting = points.slice(0, 3).map((o) => ({
    ...o,
    negativeSum: 10 * (o.trainLoss - 0.5),
    equilibration: { ...o.equilibration, slope: -1e-5, lo: -2e-5, hi: -5e-6, equilibrated: false },
  }));
  const a = fig2aAnalysis(p, [...drifting, ...points.slice(3)]);
  assert.equal(verdicts(a)['slope-matches-paper'], 'pass');
  assert.equal(a.summary.equilibrated, points.length - 3);
  assert.equal((a.summary.notEquilibrated as string[]).length, 3);
  assert.match(a.claims[0]!.description, /3 of \d+ runs left out: not equilibrated/);
  const none = fig2aAnalysis(
    p,
    points.map((o, i) => (i < 2 ? o : { ...o, equilibration: { ...o.equilibration, equilibrated: false } })),
  );
  assert.equal(verdicts(none)['slope-matches-paper'], 'inconclusive');
});

test(
  'fig2a fails on a wrong result: negative eigenvalues that do not grow with the loss, ' +
    'or an offset at the minimum',
  () => {
    const p = params('fig2a', fig2aParams);
    assert.equal(verdicts(fig2aAnalysis(p, fig2aPoints(p, 5, 0, 1e-3)))['negative-sum-falls-with-loss'], 'fail');
    assert.equal(
      verdicts(fig2aAnalysis(p, fig2aPoints(p, p.paperSlope, -0.05, 1e-3)))['negative-sum-proportional-to-loss'],
      'fail',
    );
    const flat = fig2aAnalysis(p, fig2aPoints(p, 0, -0.02, 0.05));
    assert.deepEqual(
      verdicts(flat),
      {
        'negative-sum-falls-with-loss': 'inconclusive',
        'negative-sum-proportional-to-loss': 'inconclusive',
        'slope-matches-paper': 'inconclusive',
      },
      'points with no trend establish no line: its intercept and its coefficient test nothing, ' +
        'however wide the interval that holds them',
    );
    const two = fig2aAnalysis(p, fig2aPoints(p, p.paperSlope, 0, 1e-3).slice(0, 2));
    assert.ok(
      Object.values(verdicts(two)).every((v) => v === 'inconclusive'),
      'two points make no line',
    );
  },
);

function fig5Output(loss: 'lsce' | 'mse', cs: number): Fig5Output {
  return {
    loss,
    records: [
      { step: 1, epoch: 1, cs: cs - 0.1, trainLoss: 1 },
      { step: 2, epoch: 2, cs, trainLoss: 0.5 },
    ],
    final: { cs, method: 'exact' },
  };
}

test("fig2a's line intervals hold their 95% over many seeded data sets of its size, equal or growing noise", () => {
  // 1,000 lines of n points with a known slope (the paper's −40.07) and intercept 0: each interval
  // must miss the truth about 5% of the time (binomial sd 0.7%), not the 12-15% a percentile
  // bootstrap over the points missed at n = 9.
  for (const n of [5, 9, 30])
    for (const grows of [false, true]) {
      let slopeMiss = 0,
        interceptMiss = 0;
      const trials = 1000;
      for (let t = 0; t < trials; t++) {
        const rng = new CounterRng(t + 1, 'test/line-coverage');
        const x = Array.from({ length: n }, (_, i) => 0.01 + 0.02 * rng.uniform(0, i));
        const y = x.map((v, i) => -40.07 * v + (grows ? 5 * v : 0.05) * rng.normal(1, i));
        const { slope, intercept } = lineIntervals(x, y, 0.95);
        if (!(slope.lo <= -40.07 && -40.07 <= slope.hi)) slopeMiss++;
        if (!(intercept.lo <= 0 && 0 <= intercept.hi)) interceptMiss++;
      }
      for (const [what, miss] of [
        ['slope', slopeMiss],
        ['intercept', interceptMiss],
      ] as const)
        assert.ok(
          miss / trials >= 0.02 && miss / trials <= 0.075,
          `n=${n}${grows ? ', noise growing' : ''}: the ${what} interval missed ${miss} of ${trials}`,
        );
    }
});

test("fig5: CS(H, C) above the paper's 0.9 passes, below it fails, per loss", () => {
  const p = params('fig5', fig5Params);
  assert.deepEqual(
    Object.values(verdicts(fig5Analysis(p, { lsce: fig5Output('lsce', 0.95), mse: fig5Output('mse', 0.93) }))),
    ['pass', 'pass'],
  );
  assert.deepEqual(
    Object.values(verdicts(fig5Analysis(p, { lsce: fig5Output('lsce', 0.95), mse: fig5Output('mse', 0.6) }))),
    ['pass', 'fail'],
  );
  const straddling: Fig5Output = {
    ...fig5Output('lsce', 0.91),
    final: { cs: 0.91, method: 'randomized', interval: { lo: 0.85, hi: 0.97, confidence: 0.95 } },
  };
  assert.equal(
    Object.values(verdicts(fig5Analysis(p, { lsce: straddling, mse: fig5Output('mse', 0.95) })))[0],
    'inconclusive',
    'a randomized estimate whose interval straddles the bound decides nothing',
  );
});

function fig6Epochs(projected: number[], full: number[], stderr = 0.001) {
  const ratio = (d: number) => ({ left: 1 + d, right: 1, deviation: d, stderr, batches: 5 });
  return {
    epochs: projected.map((d, i) => ({ epoch: i + 1, topEigenvalue: 10, projected: ratio(d), full: ratio(full[i]!) })),
  };
}

test(
  'fig6: the top-1 direction stationary and the full space not passes; ' + 'a full space already stationary fails',
  () => {
    const p = params('fig6', fig6Params);
    assert.deepEqual(verdicts(fig6Analysis(p, fig6Epochs([0.3, 0.02, 0.004], [0.9, 0.7, 0.5]))), {
      'fdr-top1-stationary': 'pass',
      'fdr-full-not-stationary': 'pass',
      'fdr-timescale-separation': 'pass',
    });
    assert.deepEqual(verdicts(fig6Analysis(p, fig6Epochs([0.3, 0.2, 0.1], [0.9, 0.01, 0.001]))), {
      'fdr-top1-stationary': 'fail',
      'fdr-full-not-stationary': 'fail',
      'fdr-timescale-separation': 'fail',
    });
    assert.equal(
      verdicts(fig6Analysis(p, fig6Epochs([0.3, 0.02, 0.004], [0.9, 0.7, 0.5], 0.05)))['fdr-top1-stationary'],
      'inconclusive',
      'a deviation below the bound whose error reaches over it decides nothing',
    );
    assert.ok(
      Object.values(verdicts(fig6Analysis(p, { epochs: [] }))).every((v) => v === 'inconclusive'),
      'no epoch, no verdict',
    );
  },
);

function topkOutputs(seeds: number, logdetShift: number, traceShift: number): NoiseTopkOutput[] {
  const rng = new CounterRng(7, 'test/noise-topk');
  let draw = 0;
  const rand = (): number => rng.uniform(0, draw++);
  return Array.from({ length: seeds }, (_, i) => i + 1).flatMap((seed) => {
    const base = { trace: 50 + 5 * rand(), logdet: 20 + 2 * rand() };
    const row = (variant: Variant, trace: number, logdetTopk: number): NoiseTopkOutput => ({
      variant,
      seed,
      trainLoss: 0.4,
      valLoss: 0.6,
      trace,
      traceStderr: 0.1,
      topk: [3, 2, 1],
      logdetTopk,
    });
    return [
      row('gd', base.trace, base.logdet),
      row('sgd', base.trace + traceShift + 0.2 * (rand() - 0.5), base.logdet),
      row('sgd+topk', base.trace + traceShift, base.logdet + logdetShift + 0.05 * (rand() - 0.5)),
    ];
  });
}

test('noise-topk: paired differences over seeds decide the sign; a wrong sign fails; one seed is inconclusive', () => {
  const p = params('noise-topk', noiseTopkParams);
  assert.deepEqual(verdicts(noiseTopkAnalysis(p, topkOutputs(4, -1, -3))), {
    'topk-noise-lowers-logdet': 'pass',
    'sgd-lowers-trace-vs-gd': 'pass',
  });
  assert.deepEqual(verdicts(noiseTopkAnalysis(p, topkOutputs(4, 1, 3))), {
    'topk-noise-lowers-logdet': 'fail',
    'sgd-lowers-trace-vs-gd': 'fail',
  });
  assert.ok(Object.values(verdicts(noiseTopkAnalysis(p, topkOutputs(1, -1, -3)))).every((v) => v === 'inconclusive'));
});

/** An AR(1) series of n samples (stationary variance 1/(1 − ρ²)), with a linear drift of `drift` stationary σ. */
function ar1(seed: number, n: number, rho: number, drift: number): number[] {
  const rng = new CounterRng(seed, 'test/ar1');
  const sd = 1 / Math.sqrt(1 - rho * rho);
  let x = rng.normal(0, 0) * sd;
  return Array.from({ length: n }, (_, i) => {
    x = rho * x + rng.normal(0, i + 1);
    return x - (drift * sd * i) / n;
  });
}

test(
  "fig2a's equilibration test: its slope interval holds a stationary series' 0 about as often as its 95% says; " +
    'a window too short for its fluctuations is not called equilibrated; a steady descent is found however smooth',
  () => {
    const steps = Array.from({ length: 100 }, (_, i) => 30 * i);
    const rates = (rho: number, drift: number): { missed: number; notStationary: number } => {
      let missed = 0,
        notStationary = 0;
      for (let s = 1; s <= 1000; s++) {
        const d = driftTest(steps, ar1(s, 100, rho, drift));
        if (d.interval.lo > 0 || d.interval.hi < 0) missed++;
        if (!d.stationary) notStationary++;
      }
      return { missed: missed / 1000, notStationary: notStationary / 1000 };
    };
    // Measured when the test was written, for τ = 1, 3, 9 samples: the interval misses 0 in
    // 4.2%, 5.1%, 6.8%; with the 5τ rule 4.2%, 5.1%, 9.4% are not called equilibrated, and most
    // at τ = 19 (a window of 100 samples is then too short to tell, and says so).
    for (const rho of [0, 0.5, 0.8]) {
      const r = rates(rho, 0);
      assert.ok(r.missed <= 0.08, `ρ = ${rho}: the interval missed 0 in ${r.missed}`);
      assert.ok(r.notStationary <= (rho < 0.8 ? 0.08 : 0.12), `ρ = ${rho}: ${r.notStationary} not stationary`);
    }
    assert.ok(rates(0.9, 0).notStationary > 0.3, 'a window of about 5τ cannot tell');
    // Smooth descent with tiny fluctuations (a slow GD-like run) is found every time.
    assert.equal(rates(0.5, 20).notStationary, 1);
    assert.ok(rates(0, 2).notStationary > 0.95);
    // A smooth exponential approach: its residuals about a line are one slow wave, never "equilibrated".
    const approach = steps.map((s) => 0.5 + 0.3 * Math.exp(-s / 2000));
    assert.equal(driftTest(steps, approach).stationary, false);
  },
);

test("fig2a's descriptive noise exponent: tr Σ ∝ excess^k recovers k, and is absent without measurements", () => {
  const p = params('fig2a', fig2aParams);
  const points = fig2aPoints(p, p.paperSlope, 0, 1e-3);
  const floor = lsceFloor(p.smoothing);
  for (const k of [1, 0.5, 0]) {
    const withNoise = points.map((o, i) => ({
      ...o,
      gradientNoise: 3 * (o.trainLoss - floor) ** k * (1 + 0.01 * (i % 3)),
    }));
    const d = fig2aAnalysis(p, withNoise).summary.gradientNoiseDescriptive as { exponent: number; interval: number[] };
    assert.ok(Math.abs(d.exponent - k) < 0.02, `exponent ${d.exponent} for ${k}`);
    assert.ok(d.interval[0]! <= d.exponent && d.exponent <= d.interval[1]!);
  }
  assert.equal(fig2aAnalysis(p, points).summary.gradientNoiseDescriptive, undefined);
  // The held fraction (η/4B)(1 − B/M) tr Σ / excess, by hand for one run.
  const one = { ...points[0]!, gradientNoise: 0.2 };
  const held = fig2aAnalysis(p, [one, ...points.slice(1).map((o) => ({ ...o, gradientNoise: 1e-9 }))]).summary
    .gradientNoiseDescriptive as { heldFraction: { max: number } };
  const byHand = ((one.lr / (4 * one.batch)) * (1 - one.batch / p.samples) * 0.2) / (one.trainLoss - floor);
  assert.ok(Math.abs(held.heldFraction.max - byHand) < 1e-12 * byHand);
  // Verdicts do not depend on it.
  assert.deepEqual(
    verdicts(
      fig2aAnalysis(
        p,
        points.map((o) => ({ ...o, gradientNoise: 1 })),
      ),
    ),
    verdicts(fig2aAnalysis(p, points)),
  );
});
