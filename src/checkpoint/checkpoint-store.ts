import type { ObjectStore } from '../storage/object-store';
import { ObjectNotFoundError } from '../storage/object-store';
import { sha256Hex } from '../storage/hashing';
import { decodeSafetensors, encodeSafetensors, type Tensor } from './safetensors';

/**
 * Checkpoints with a commit protocol: the data object (safetensors) goes up first, then a small
 * JSON manifest holding its SHA-256. The manifest write is the commit; a reader trusts nothing
 * without a manifest and verifies the hash before loading, so a partial or corrupted checkpoint
 * is skipped for the previous good one and never loaded.
 *
 * Layout under a checkpoint root (e.g. `runs/<runId>/checkpoints/<track>/`):
 *   `<step, 12 digits>/state.safetensors`, then `<step>/manifest.json`.
 */

export const MANIFEST_FORMAT = 'repro-checkpoint/1';

/** The commit record of one checkpoint. */
export interface CheckpointManifest {
  format: typeof MANIFEST_FORMAT;
  step: number;
  createdAt: string;
  /** Key and hash of the state data. */
  data: { key: string; sha256: string; bytes: number };
  /** Anything needed to resume besides tensors: config, code version, RNG counters, backend. */
  meta: Record<string, unknown>;
}

/** A checkpoint as loaded: verified tensors and the manifest that committed them. */
export interface LoadedCheckpoint {
  manifest: CheckpointManifest;
  manifestKey: string;
  tensors: Record<string, Tensor>;
  /** The verified safetensors bytes the tensors were decoded from. */
  bytes: Uint8Array;
}

/** What a reader saw while looking for the latest checkpoint, for logs and tests. */
export interface SkippedCheckpoint {
  manifestKey: string;
  reason: string;
}

function stepDir(root: string, step: number): string {
  return `${root}${String(step).padStart(12, '0')}/`;
}

export class CheckpointStore {
  constructor(private readonly store: ObjectStore) {}

  /** Write tensors then the manifest (the commit). Returns the committed manifest, its key and the data's bytes. */
  async commit(
    root: string,
    step: number,
    tensors: Record<string, Tensor>,
    meta: Record<string, unknown>,
  ): Promise<{ manifest: CheckpointManifest; manifestKey: string; bytes: Uint8Array }> {
    const dir = stepDir(root, step);
    const bytes = encodeSafetensors(tensors, { step: String(step) });
    const dataKey = `${dir}state.safetensors`;
    const sha256 = await this.store.put(dataKey, bytes);
    const manifest: CheckpointManifest = {
      format: MANIFEST_FORMAT,
      step,
      createdAt: new Date().toISOString(),
      data: { key: dataKey, sha256, bytes: bytes.byteLength },
      meta,
    };
    const manifestKey = `${dir}manifest.json`;
    await this.store.put(manifestKey, Buffer.from(JSON.stringify(manifest, null, 2)), 'application/json');
    return { manifest, manifestKey, bytes };
  }

  /**
   * {@link commit} in two parts: the manifest and its key now (the data hashed here), and `write`,
   * which puts the data then the manifest, for a caller that lets the writes trail its work.
   */
  prepare(
    root: string,
    step: number,
    tensors: Record<string, Tensor>,
    meta: Record<string, unknown>,
  ): { manifest: CheckpointManifest; manifestKey: string; bytes: Uint8Array; write: () => Promise<void> } {
    const dir = stepDir(root, step);
    const bytes = encodeSafetensors(tensors, { step: String(step) });
    const dataKey = `${dir}state.safetensors`;
    const manifest: CheckpointManifest = {
      format: MANIFEST_FORMAT,
      step,
      createdAt: new Date().toISOString(),
      data: { key: dataKey, sha256: sha256Hex(bytes), bytes: bytes.byteLength },
      meta,
    };
    const manifestKey = `${dir}manifest.json`;
    const write = async (): Promise<void> => {
      const stored = await this.store.put(dataKey, bytes);
      if (stored !== manifest.data.sha256)
        throw new Error(`${dataKey}: stored sha256 ${stored}, sent ${manifest.data.sha256}`);
      await this.store.put(manifestKey, Buffer.from(JSON.stringify(manifest, null, 2)), 'application/json');
    };
    return { manifest, manifestKey, bytes, write };
  }

  /**
   * Put back the data of a committed checkpoint from tensors recomputed for it (a deterministic
   * computation gives the same bytes). Only bytes that hash to what the manifest committed are
   * written; resolves to false, writing nothing, when they do not.
   */
  async restoreData(manifestKey: string, tensors: Record<string, Tensor>): Promise<boolean> {
    const manifest = JSON.parse(Buffer.from(await this.store.get(manifestKey)).toString('utf8')) as CheckpointManifest;
    const bytes = encodeSafetensors(tensors, { step: String(manifest.step) });
    if (sha256Hex(bytes) !== manifest.data.sha256) return false;
    await this.store.put(manifest.data.key, bytes);
    return true;
  }

  /**
   * Committed checkpoint steps under a root, newest first (manifests only; not yet verified);
   * `listed`: the keys under the root, if the caller has just listed them.
   */
  async committedSteps(root: string, listed?: string[]): Promise<Array<{ step: number; manifestKey: string }>> {
    const keys = listed ?? (await this.store.list(root));
    return keys
      .filter((k) => k.endsWith('/manifest.json'))
      .map((k) => ({ step: Number(k.slice(root.length).split('/')[0]), manifestKey: k }))
      .filter((c) => Number.isSafeInteger(c.step))
      .sort((a, b) => b.step - a.step);
  }

  /**
   * Remove the checkpoints under `root` older than `below` that `keep` does not want (a long run
   * would otherwise keep every interval's state). The manifest goes first, so no commit ever
   * points at missing data; a reader racing with this skips the vanished one.
   */
  async prune(root: string, below: number, keep: (step: number) => boolean = () => false): Promise<number[]> {
    const gone: number[] = [];
    for (const { step, manifestKey } of await this.committedSteps(root)) {
      if (step >= below || keep(step)) continue;
      await this.store.delete(manifestKey);
      await this.store.delete(`${stepDir(root, step)}state.safetensors`);
      gone.push(step);
    }
    return gone.sort((a, b) => a - b);
  }

  /**
   * The newest checkpoint whose manifest parses and whose data matches its hash, or undefined.
   * Bad ones are reported through `onSkip` and passed over. `listed` as for {@link committedSteps}.
   */
  async loadLatest(
    root: string,
    onSkip: (s: SkippedCheckpoint) => void = () => {},
    maxStep = Infinity,
    listed?: string[],
  ): Promise<LoadedCheckpoint | undefined> {
    for (const { step, manifestKey } of await this.committedSteps(root, listed)) {
      if (step > maxStep) continue;
      const reason = await this.tryLoad(manifestKey);
      if (typeof reason !== 'string') return reason;
      onSkip({ manifestKey, reason });
    }
    return undefined;
  }

  /** One checkpoint by its manifest key, verified; a string says why it cannot be loaded. */
  async tryLoad(manifestKey: string): Promise<LoadedCheckpoint | string> {
    let manifest: CheckpointManifest;
    try {
      manifest = JSON.parse(Buffer.from(await this.store.get(manifestKey)).toString('utf8'));
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return 'manifest vanished';
      if (err instanceof SyntaxError) return 'manifest is not valid JSON';
      throw err; // transient I/O: let the caller's retry policy handle it
    }
    if (manifest.format !== MANIFEST_FORMAT || !manifest.data?.key) return `manifest format is not ${MANIFEST_FORMAT}`;
    let bytes: Uint8Array, actual: string;
    try {
      ({ bytes, sha256: actual } = await this.store.getHashed(manifest.data.key));
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return `data object ${manifest.data.key} is missing`;
      throw err;
    }
    if (actual !== manifest.data.sha256)
      return (
        `sha256 mismatch for ${manifest.data.key}: manifest says ${manifest.data.sha256}, ` + `data hashes to ${actual}`
      );
    try {
      return { manifest, manifestKey, tensors: decodeSafetensors(bytes, manifest.data.key).tensors, bytes };
    } catch (err) {
      return (err as Error).message;
    }
  }
}
