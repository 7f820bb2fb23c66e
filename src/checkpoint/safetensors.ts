/**
 * safetensors: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
 * shape and byte range, then the raw little-endian data. Chosen for checkpoints because PyTorch,
 * JAX, numpy and the Hugging Face tools all read it, so a user can open our checkpoints anywhere.
 */

export type DType = 'F64' | 'F32' | 'I32' | 'I64' | 'U8';

/** One tensor as held in memory. I64 values are carried as doubles (exact below 2^53). */
export interface Tensor {
  dtype: DType;
  shape: number[];
  data: Float64Array | Float32Array | Int32Array | Uint8Array;
}

const BYTES: Record<DType, number> = { F64: 8, F32: 4, I32: 4, I64: 8, U8: 1 };

/** Thrown for a file that is not valid safetensors; the message says what is wrong. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Encoded files from this size up live in a SharedArrayBuffer. */
const SHARED_FROM = 1024 * 1024;

/** Serialize named tensors and string metadata. */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const t = tensors[name]!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new SafetensorsError(
        `tensor '${name}': shape [${t.shape}] holds ${count} values but data has ${t.data.length}`,
      );
    const bytes = count * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  // The header is padded with spaces to 8 bytes so the data is aligned for zero-copy readers.
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const headerBytes = Buffer.from(json, 'utf8');
  // Large files go in shared memory, so a store can hash them on another thread while uploading.
  const size = 8 + headerBytes.length + offset;
  const out = new Uint8Array(size >= SHARED_FROM ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors[name]!;
    at = writeData(view, at, t);
  }
  return out;
}

/** Every platform Node.js supports is little-endian, as safetensors is; checked once anyway. */
const LITTLE_ENDIAN = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;

/** Typed arrays whose memory already is the dtype's layout: copied as bytes, not per value. */
function sameLayout(t: Tensor): boolean {
  return (
    LITTLE_ENDIAN &&
    ((t.dtype === 'F64' && t.data instanceof Float64Array) ||
      (t.dtype === 'F32' && t.data instanceof Float32Array) ||
      (t.dtype === 'I32' && t.data instanceof Int32Array) ||
      (t.dtype === 'U8' && t.data instanceof Uint8Array))
  );
}

function writeData(view: DataView, at: number, t: Tensor): number {
  if (sameLayout(t)) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    new Uint8Array(view.buffer, view.byteOffset).set(bytes, at);
    return at + bytes.length;
  }
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i]!;
    switch (t.dtype) {
      case 'F64':
        view.setFloat64(at, v, true);
        at += 8;
        break;
      case 'F32':
        view.setFloat32(at, v, true);
        at += 4;
        break;
      case 'I32':
        view.setInt32(at, v, true);
        at += 4;
        break;
      case 'I64':
        view.setBigInt64(at, BigInt(v), true);
        at += 8;
        break;
      case 'U8':
        view.setUint8(at, v);
        at += 1;
        break;
    }
  }
  return at;
}

/** Parse a safetensors buffer; `source` names the file in error messages. */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'safetensors data',
): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  // Every check names the file and what is wrong: a truncated or foreign file is the usual cause.
  const notOne = (why: string): never => {
    throw new SafetensorsError(`${source}: not a safetensors file, or a damaged one (${why}); check the file`);
  };
  if (bytes.length < 8) notOne(`${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8)
    throw new SafetensorsError(
      `${source}: its header length says ${headerLength} bytes but the file has ${bytes.length}: ` +
        'truncated, or not a safetensors file; write or download it again',
    );
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString('utf8'));
  } catch {
    notOne('its header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) notOne('its header is not a JSON object');
  const base = 8 + headerLength;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = (entry ?? {}) as {
      dtype?: unknown;
      shape?: unknown;
      data_offsets?: unknown;
    };
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(BYTES, dtype))
      throw new SafetensorsError(
        `${source}: tensor '${name}' has dtype ${JSON.stringify(dtype)}; ` +
          `supported: ${Object.keys(BYTES).join(', ')}`,
      );
    const size = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
    if (!Array.isArray(shape) || !shape.every(size)) notOne(`tensor '${name}' has no shape of whole numbers`);
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every(size))
      notOne(`tensor '${name}' has no data_offsets [begin, end]`);
    const dims = shape as number[];
    const [start, end] = data_offsets as [number, number];
    const count = dims.reduce((a, b) => a * b, 1);
    const kind = dtype as DType;
    if (end - start !== count * BYTES[kind])
      notOne(`tensor '${name}': bytes [${start}, ${end}) do not hold shape [${dims}] ${kind}`);
    if (base + end > bytes.length)
      throw new SafetensorsError(
        `${source}: tensor '${name}' ends at byte ${base + end} but the file has ${bytes.length}: ` +
          'truncated; write or download it again',
      );
    tensors[name] = { dtype: kind, shape: dims, data: readData(view, base + start, count, kind) };
  }
  return { tensors, metadata };
}

function readData(view: DataView, at: number, count: number, dtype: DType): Tensor['data'] {
  if (LITTLE_ENDIAN && dtype !== 'I64') {
    const start = view.byteOffset + at;
    // Aligned data is viewed in place (no copy); otherwise one copy into an aligned buffer.
    const aligned = start % BYTES[dtype] === 0;
    const bytes = aligned ? view.buffer : view.buffer.slice(start, start + count * BYTES[dtype]);
    const offset = aligned ? start : 0;
    if (dtype === 'F64') return new Float64Array(bytes, offset, count);
    if (dtype === 'F32') return new Float32Array(bytes, offset, count);
    if (dtype === 'I32') return new Int32Array(bytes, offset, count);
    return new Uint8Array(bytes, offset, count);
  }
  switch (dtype) {
    case 'F64': {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat64(at + 8 * i, true);
      return a;
    }
    case 'F32': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat32(at + 4 * i, true);
      return a;
    }
    case 'I32': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt32(at + 4 * i, true);
      return a;
    }
    case 'I64': {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = Number(view.getBigInt64(at + 8 * i, true));
      return a;
    }
    case 'U8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + count));
  }
}
