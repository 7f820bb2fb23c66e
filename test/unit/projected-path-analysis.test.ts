import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projectedPathClaims, seedTraceSlopes, traceByEpoch } from '../../src/experiments/projected-path/analysis';
import { pathParams } from '../../src/experiments/projected-path/params';
import { findPathExperiment, planRun } from '../../src/experiments/registry';
import { validationLossFalls } from '../../src/experiments/fig4bc/analysis';

const params = pathParams.check('projected-path', planRun('projected-path', 'small', []).params);
const connected = (seed: number) => ({
  seed,
  unconnectedPairs: 0,
  unconnectedAfterSettle: 0,
  pairsAfterSettle: 4,
  connectedPairs: 5,
});
/** A seed's path: `perEpoch` points in each of epochs 0..4 with trace a + b·epoch. */
const path = (seed: number, a: number, b: number, perEpoch = 1) =>
  [0, 1, 2, 3, 4].flatMap((e) =>
    Array.from({ length: perEpoch }, (_, k) => ({ seed, epoch: e + k / (2 * perEpoch), trace: a + b * e })),
  );

test(
  'mean ± std over seeds: each seed is averaged within an epoch first, ' +
    'so bisection-dense seeds do not weigh more; one seed has no std',
  () => {
    // seed 1 has 5 points per epoch (a bent path), seed 2 one: the old pooled bins gave seed 1 5/6 of the weight
    const rows = [...path(1, 10, -1, 5), ...path(2, 20, -1)];
    const byEpoch = traceByEpoch(rows);
    assert.deepEqual(
      byEpoch.map((e) => e.mean),
      [15, 14, 13, 12, 11],
    );
    assert.ok(byEpoch.every((e) => e.seeds === 2 && Math.abs(e.std! - Math.SQRT2 * 5) < 1e-12));
    assert.ok(
      traceByEpoch(path(1, 10, -1)).every((e) => e.std === null && e.seeds === 1),
      'a single seed reports no spread',
    );
  },
);

test(
  'trace-decreases: a per-seed slope with a t interval over seeds; passes only below zero, ' + 'never at a slope of 0',
  () => {
    const falling = projectedPathClaims(
      params,
      [...path(1, 10, -1), ...path(2, 12, -1.2), ...path(3, 9, -0.8)],
      [1, 2, 3].map(connected),
    );
    const trend = falling.find((c) => c.id === 'trace-decreases')!;
    assert.equal(trend.kind, 'sign');
    assert.equal(trend.verdict, 'pass');
    assert.ok(Math.abs(trend.measured + 1) < 1e-12 && trend.interval!.hi < 0);
    const flat = projectedPathClaims(
      params,
      [...path(1, 10, 0), ...path(2, 12, 0), ...path(3, 9, 0)],
      [1, 2, 3].map(connected),
    );
    assert.notEqual(
      flat.find((c) => c.id === 'trace-decreases')!.verdict,
      'pass',
      'a slope of exactly 0 does not pass',
    );
    const mixed = projectedPathClaims(
      params,
      [...path(1, 10, -1), ...path(2, 12, 0.9), ...path(3, 9, -0.2)],
      [1, 2, 3].map(connected),
    );
    assert.equal(
      mixed.find((c) => c.id === 'trace-decreases')!.verdict,
      'inconclusive',
      'seeds that disagree straddle zero',
    );
    const rising = projectedPathClaims(
      params,
      [...path(1, 10, 1), ...path(2, 12, 1.1), ...path(3, 9, 0.9)],
      [1, 2, 3].map(connected),
    );
    assert.equal(rising.find((c) => c.id === 'trace-decreases')!.verdict, 'fail');
    const one = projectedPathClaims(params, path(1, 10, -1), [connected(1)]);
    assert.equal(
      one.find((c) => c.id === 'trace-decreases')!.verdict,
      'inconclusive',
      'one seed gives no interval over seeds',
    );
    assert.deepEqual(
      seedTraceSlopes(path(4, 3, -0.5, 3)).map((s) => s.slope),
      [-0.5],
    );
  },
);

test(
  'path-connected counts pairs left unconnected after the settling epochs; ' +
    'with none to check it is inconclusive, not a pass',
  () => {
    const broken = projectedPathClaims(params, path(1, 10, -1), [
      { ...connected(1), unconnectedPairs: 3, unconnectedAfterSettle: 2 },
    ]);
    const c = broken.find((x) => x.id === 'path-connected')!;
    assert.deepEqual([c.kind, c.measured, c.verdict], ['within', 2, 'fail']);
    const early = projectedPathClaims(params, path(1, 10, -1), [{ ...connected(1), unconnectedPairs: 3 }]);
    assert.equal(
      early.find((x) => x.id === 'path-connected')!.verdict,
      'pass',
      'breaks before the path settles are reported, not counted',
    );
    const none = projectedPathClaims(params, path(1, 10, -1), [{ ...connected(1), pairsAfterSettle: 0 }]);
    assert.equal(none.find((x) => x.id === 'path-connected')!.verdict, 'inconclusive');
    assert.deepEqual(
      broken.map((x) => x.id),
      ['path-connected', 'trace-decreases'],
      'no claim that holds by construction',
    );
  },
);

test('fig4bc: from a bad minimum, validation loss that falls along the path passes and one that rises fails', () => {
  const bad = pathParams.check('fig4bc', planRun('fig4bc', 'small', []).params);
  const withVal = (rows: ReturnType<typeof path>, slope: number) =>
    rows.map((r) => ({ ...r, valLoss: 2 + slope * r.epoch + 0.01 * r.seed }));
  const claim = (slope: number) =>
    validationLossFalls(
      bad,
      [1, 2, 3].flatMap((s) => withVal(path(s, 10, -1), slope * (1 + s / 10))),
    ).find((c) => c.id === 'validation-loss-falls')!;
  assert.equal(claim(-0.1).verdict, 'pass');
  assert.equal(claim(0.1).verdict, 'fail');
  const names = (name: string) => {
    const rows = withVal(path(1, 10, -1), -0.1).map((r) => ({
      ...r,
      iteration: r.epoch * 10,
      trainLoss: 0.5,
      traceStderr: 0,
      depth: 0,
    }));
    const seeds = [{ ...connected(1), points: rows.length, maxDepth: 0, unconnected: [], unreached: 0, backends: [] }];
    return findPathExperiment(name)
      .analyze(bad, rows, seeds)
      .claims.map((c) => c.id);
  };
  assert.ok(names('fig4bc').includes('validation-loss-falls'), "fig4bc's analysis makes its own claim");
  assert.ok(!names('fig1').includes('validation-loss-falls'), 'the engine alone makes no such claim');
});
