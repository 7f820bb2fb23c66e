import { createHash } from 'crypto';
import { setImmediate as yieldToEventLoop } from 'timers/promises';

/** Slice size for interleaved hashing: ~2 ms of SHA-256 each, short enough not to stall I/O. */
const SLICE = 4 * 1024 * 1024;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * SHA-256 of a large buffer in slices with yields between them, so that an upload of the same
 * buffer running concurrently keeps its sockets busy while we hash.
 */
export async function sha256HexInterleaved(bytes: Uint8Array): Promise<string> {
  if (bytes.byteLength <= SLICE) return sha256Hex(bytes);
  const hash = createHash('sha256');
  for (let offset = 0; offset < bytes.byteLength; offset += SLICE) {
    hash.update(bytes.subarray(offset, offset + SLICE));
    await yieldToEventLoop();
  }
  return hash.digest('hex');
}
