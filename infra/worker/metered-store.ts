/**
 * The object store the worker's activities get: the same store, its checkpoint traffic timed and
 * counted for the worker's metrics. Checkpoints are recognized by the keys CheckpointStore writes:
 * `<root><12-digit step>/state.safetensors` (the data), then `.../manifest.json` (the commit).
 */
import type { ObjectInfo, ObjectStore } from '../../src/storage/object-store';

const DATA = /\/\d{12}\/state\.safetensors$/;
const MANIFEST = /\/\d{12}\/manifest\.json$/;

export interface CheckpointTraffic {
  /** Bytes of a checkpoint's data or manifest written. */
  wrote(bytes: number): void;
  /** A checkpoint committed: seconds from its data upload starting to its manifest written. */
  committed(seconds: number): void;
  /** A checkpoint's data read, and how long it took. */
  read(bytes: number, seconds: number): void;
}

export class MeteredStore implements ObjectStore {
  /** When each checkpoint folder's data upload started, until its manifest commits it. */
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly inner: ObjectStore,
    private readonly now: () => number,
    private readonly traffic: CheckpointTraffic,
  ) {}

  async put(key: string, body: Uint8Array, contentType?: string): Promise<string> {
    const data = DATA.test(key);
    const manifest = MANIFEST.test(key);
    const start = this.now();
    const dir = key.slice(0, key.lastIndexOf('/'));
    if (data) this.pending.set(dir, start);
    const sha = await this.inner.put(key, body, contentType);
    if (data || manifest) this.traffic.wrote(body.byteLength);
    if (manifest) {
      this.traffic.committed((this.now() - (this.pending.get(dir) ?? start)) / 1000);
      this.pending.delete(dir);
    }
    return sha;
  }

  async getHashed(key: string): Promise<{ bytes: Uint8Array; sha256: string }> {
    const start = this.now();
    const got = await this.inner.getHashed(key);
    if (DATA.test(key)) this.traffic.read(got.bytes.byteLength, (this.now() - start) / 1000);
    return got;
  }

  async get(key: string): Promise<Uint8Array> {
    const start = this.now();
    const bytes = await this.inner.get(key);
    if (DATA.test(key)) this.traffic.read(bytes.byteLength, (this.now() - start) / 1000);
    return bytes;
  }

  putIfAbsent(key: string, body: Uint8Array, contentType?: string): Promise<boolean> {
    return this.inner.putIfAbsent(key, body, contentType);
  }
  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
  listDetailed(prefix: string): Promise<ObjectInfo[]> {
    return this.inner.listDetailed(prefix);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  url(key: string): string {
    return this.inner.url(key);
  }
}
