import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeSafetensors, encodeSafetensors } from '../../src/checkpoint/safetensors';

test('round trip keeps dtype, shape and every bit', () => {
  const theta = Float64Array.of(Math.PI, -0, 1e-310, Number.MAX_VALUE);
  const bytes = encodeSafetensors(
    {
      theta: { dtype: 'F64', shape: [2, 2], data: theta },
      w: { dtype: 'F32', shape: [3], data: Float32Array.of(1.5, -2, 3.25) },
      step: { dtype: 'I64', shape: [1], data: Float64Array.of(2 ** 52 + 1) },
    },
    { step: '7' },
  );
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(metadata, { step: '7' });
  assert.deepEqual(tensors.theta!.shape, [2, 2]);
  assert.ok(Object.is(tensors.theta!.data[1], -0));
  assert.deepEqual(Array.from(tensors.theta!.data), Array.from(theta));
  assert.deepEqual(Array.from(tensors.w!.data), [1.5, -2, 3.25]);
  assert.equal(tensors.step!.data[0], 2 ** 52 + 1);
});

test('layout is the published format: u64 header length, JSON header, 8-byte aligned data', () => {
  const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [1], data: Float32Array.of(1) } });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0);
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString());
  assert.deepEqual(header.a, { dtype: 'F32', shape: [1], data_offsets: [0, 4] });
  assert.equal(new DataView(bytes.buffer).getFloat32(8 + n, true), 1);
});

test('truncated and malformed files are refused with the source name', () => {
  const bytes = encodeSafetensors({ a: { dtype: 'F64', shape: [4], data: new Float64Array(4) } });
  assert.throws(
    () => decodeSafetensors(bytes.subarray(0, bytes.length - 1), 'ck.safetensors'),
    /^SafetensorsError: ck.safetensors: tensor 'a' ends at byte \d+ but the file has \d+: truncated/,
  );
  assert.throws(() => decodeSafetensors(bytes.subarray(0, 4), 'ck.safetensors'), /4 bytes, too short/);
  const lying = Uint8Array.from(bytes);
  new DataView(lying.buffer).setBigUint64(0, 1n << 40n, true);
  assert.throws(
    () => decodeSafetensors(lying, 'ck.safetensors'),
    /header length says 1099511627776 bytes but the file has \d+: truncated, or not a safetensors file/,
  );
  // Headers that are JSON but not safetensors: each a SafetensorsError naming the file, never a TypeError.
  const withHeader = (header: string): Uint8Array => {
    const h = Buffer.from(header);
    const out = new Uint8Array(8 + h.length + 16);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    return out;
  };
  for (const [header, re] of [
    ['null', /header is not a JSON object/],
    ['[1, 2]', /header is not a JSON object/],
    ['{"a": 1}', /tensor 'a' has dtype undefined; supported: F64, F32, I32, I64, U8/],
    ['{"a": {"dtype": "toString", "shape": [1], "data_offsets": [0, 4]}}', /tensor 'a' has dtype "toString"/],
    ['{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}', /tensor 'a' has no shape of whole numbers/],
    ['{"a": {"dtype": "F32", "shape": [1], "data_offsets": "0-4"}}', /tensor 'a' has no data_offsets/],
    ['{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}', /bytes \[0, 4\) do not hold shape \[2\] F32/],
    ['{"a": {"dtype": "F32", "shape": [1]', /header is not JSON/],
  ] as const)
    assert.throws(
      () => decodeSafetensors(withHeader(header), 'w.safetensors'),
      (e: Error) => e.name === 'SafetensorsError' && e.message.startsWith('w.safetensors: ') && re.test(e.message),
      header,
    );
});
