import { DataFormatError } from './dataset';

/**
 * The IDX format of the original MNIST files: magic (two zero bytes, a type code, the number of
 * dimensions), big-endian uint32 dimension sizes, then the data. We read unsigned bytes (0x08),
 * the type every MNIST file uses.
 */
export function parseIdx(bytes: Uint8Array, source: string): { dims: number[]; data: Uint8Array } {
  if (bytes.length < 4) throw new DataFormatError(`${source}: ${bytes.length} bytes is too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    throw new DataFormatError(
      `${source}: wrong magic number (first bytes ${bytes[0]}, ${bytes[1]}; expected 0, 0): not an IDX file`,
    );
  if (bytes[2] !== 0x08)
    throw new DataFormatError(`${source}: IDX type 0x${bytes[2]!.toString(16)} is not unsigned byte (0x08)`);
  const ndim = bytes[3]!;
  const headerLength = 4 + 4 * ndim;
  if (bytes.length < headerLength) throw new DataFormatError(`${source}: truncated IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = headerLength + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) {
    throw new DataFormatError(
      `${source}: length ${bytes.length} bytes does not match dimensions [${dims}] (expected ${expected}); ` +
        `truncated or corrupt`,
    );
  }
  return { dims, data: bytes.subarray(headerLength) };
}
