/**
 * The states this worker just committed or verified, as their safetensors bytes keyed by SHA-256,
 * newest last, up to a byte budget. A stage that loads a minimum another stage on this worker just
 * saved (a line check, a trace) skips the S3 round trips and the hash check: the bytes are the
 * ones that hash to what the caller holds. Only a cache: S3 stays the record, and a state not
 * held here (another worker's, or one evicted) is read and verified there as before.
 */
export class RecentStates {
  private readonly held = new Map<string, Uint8Array>();
  private bytes = 0;

  constructor(private readonly budget: number) {}

  /** The bytes hashing to `sha256`, if held (and now the most recent). */
  get(sha256: string): Uint8Array | undefined {
    const b = this.held.get(sha256);
    if (b) {
      this.held.delete(sha256);
      this.held.set(sha256, b);
    }
    return b;
  }

  /** Hold `bytes`, which hash to `sha256`; the least recently used go past the budget. */
  set(sha256: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.budget) return;
    const old = this.held.get(sha256);
    if (old) {
      this.held.delete(sha256);
      this.bytes -= old.byteLength;
    }
    this.held.set(sha256, bytes);
    this.bytes += bytes.byteLength;
    for (const [k, b] of this.held) {
      if (this.bytes <= this.budget) break;
      this.held.delete(k);
      this.bytes -= b.byteLength;
    }
  }
}
