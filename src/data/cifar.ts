import { checkLabels, DataFormatError, type Dataset } from './dataset';

/**
 * CIFAR-10/100 binary version: fixed-length records, CIFAR-10 `<label><3072 pixels>`, CIFAR-100
 * `<coarse label><fine label><3072 pixels>`, pixels channel-major (1024 R, 1024 G, 1024 B).
 * We return NHWC float32 in [0, 1] with the fine labels.
 */
export type CifarVariant = 10 | 100;

export function parseCifarBinary(bytes: Uint8Array, variant: CifarVariant, source: string): Dataset {
  const labelBytes = variant === 10 ? 1 : 2;
  const record = labelBytes + 3072;
  if (bytes.length === 0 || bytes.length % record !== 0) {
    throw new DataFormatError(
      `${source}: length ${bytes.length} is not a multiple of the CIFAR-${variant} record size ${record}; ` +
        `truncated or not a CIFAR-${variant} binary file`,
    );
  }
  const n = bytes.length / record;
  const x = new Float32Array(n * 3072);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * record;
    y[i] = bytes[at + labelBytes - 1]!;
    const pixels = at + labelBytes;
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) x[i * 3072 + p * 3 + c] = bytes[pixels + c * 1024 + p]! / 255;
    }
  }
  checkLabels(y, variant, source);
  return { name: `cifar${variant}`, shape: [32, 32, 3], classes: variant, x, y };
}

/** Concatenate data sets of the same shape (the five CIFAR-10 training batches). */
export function concatDatasets(parts: Dataset[], name: string): Dataset {
  const x = new Float32Array(parts.reduce((s, p) => s + p.x.length, 0));
  const y = new Int32Array(parts.reduce((s, p) => s + p.y.length, 0));
  let xo = 0,
    yo = 0;
  for (const p of parts) {
    x.set(p.x, xo);
    y.set(p.y, yo);
    xo += p.x.length;
    yo += p.y.length;
  }
  return { ...parts[0]!, name, x, y };
}
