import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CounterRng, philox4x32 } from '../../src/rng/philox';

const hex = (a: Uint32Array): string => Array.from(a, (x) => x.toString(16).padStart(8, '0')).join(' ');

test('philox4x32-10 matches the Random123 known-answer vectors', () => {
  assert.equal(hex(philox4x32([0, 0, 0, 0], [0, 0])), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
  assert.equal(
    hex(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])),
    '408f276d 41c83b0e a20bc7c6 6d5451fd',
  );
  assert.equal(
    hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])),
    'd16cfe09 94fdcceb 5001e420 24126ea1',
  );
});

test('draws are a pure function of (seed, stream, step, index)', () => {
  const a = new CounterRng(7, 'noise'),
    b = new CounterRng(7, 'noise');
  const forward = Array.from({ length: 100 }, (_, s) => a.normal(s));
  const backward = Array.from({ length: 100 }, (_, k) => b.normal(99 - k)).reverse();
  assert.deepEqual(forward, backward);
  assert.notEqual(new CounterRng(7, 'noise').normal(3), new CounterRng(8, 'noise').normal(3));
  assert.notEqual(new CounterRng(7, 'noise').normal(3), new CounterRng(7, 'init').normal(3));
  assert.notEqual(a.normal(2 ** 40), a.normal(2 ** 40 + 2 ** 32), 'high step bits reach the counter');
});

test('normals have mean 0 and variance 1 (200k draws, 5-sigma bounds)', () => {
  const rng = new CounterRng(1, 'moments');
  const n = 200_000;
  let s = 0,
    s2 = 0,
    s4 = 0;
  for (let i = 0; i < n; i++) {
    const x = rng.normal(i);
    s += x;
    s2 += x * x;
    s4 += x ** 4;
  }
  const mean = s / n,
    variance = s2 / n - mean ** 2;
  assert.ok(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 5 * Math.sqrt(2 / n), `variance ${variance}`);
  assert.ok(Math.abs(s4 / n - 3) < 5 * Math.sqrt(96 / n), `fourth moment ${s4 / n}`);
});

test('a bad seed is refused with its value', () => {
  assert.throws(() => new CounterRng(-1, 'x'), /seed must be a non-negative integer, got -1/);
  assert.throws(() => new CounterRng(1.5, 'x'), /got 1.5/);
});
