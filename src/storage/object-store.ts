/**
 * The storage boundary: a flat key-value store of immutable byte objects. Implemented by S3
 * (production and the embedded stack) and a local folder (single-machine use, `repro hessian`).
 * Both pass the same contract suite (test/object-store.contract.test.ts).
 */
export interface ObjectStore {
  /** Write an object whole (readers never see a partial object); resolves to its SHA-256 (hex). */
  put(key: string, body: Uint8Array, contentType?: string): Promise<string>;
  /**
   * Write an object only if no object has the key (atomically: of two writers at once, one wins);
   * resolves to false, writing nothing, when the key exists. For what is written once (a result).
   */
  putIfAbsent(key: string, body: Uint8Array, contentType?: string): Promise<boolean>;
  /** Read an object; throws {@link ObjectNotFoundError} if it is absent. */
  get(key: string): Promise<Uint8Array>;
  /** Read an object and hash it while it streams in; throws {@link ObjectNotFoundError}. */
  getHashed(key: string): Promise<{ bytes: Uint8Array; sha256: string }>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Objects under a prefix with their size and last write, sorted by key. */
  listDetailed(prefix: string): Promise<ObjectInfo[]>;
  /** Remove an object; absent objects are fine. */
  delete(key: string): Promise<void>;
  /** A URL a person can use to find the object (`s3://bucket/key`, `file:///path`). */
  url(key: string): string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  modified: Date;
}

/** The object asked for does not exist. */
export class ObjectNotFoundError extends Error {
  override name = 'ObjectNotFoundError';
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
  }
}
