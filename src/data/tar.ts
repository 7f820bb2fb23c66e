import { DataFormatError } from './dataset';

/**
 * Regular files of a (ustar/GNU) tar archive. Only what the CIFAR archives need: no links are
 * followed and no path is written to disk, so a hostile archive cannot escape anything.
 */
export function readTar(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let at = 0;
  const text = (from: number, len: number): string => {
    const slice = bytes.subarray(from, from + len);
    const end = slice.indexOf(0);
    return Buffer.from(end >= 0 ? slice.subarray(0, end) : slice).toString('utf8');
  };
  while (at + 512 <= bytes.length) {
    if (bytes.subarray(at, at + 512).every((b) => b === 0)) break; // end-of-archive blocks
    const name = text(at, 100);
    const prefix = text(at + 345, 155);
    const size = parseInt(text(at + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(bytes[at + 156]!);
    if (!Number.isFinite(size) || at + 512 + size > bytes.length)
      throw new DataFormatError(`${source}: truncated tar entry '${name}'`);
    if (type === '0' || type === '\0')
      files.set(prefix ? `${prefix}/${name}` : name, bytes.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}
