import { promises as fs } from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { sha256Hex } from './hashing';
import { ObjectNotFoundError, type ObjectInfo, type ObjectStore } from './object-store';

/** {@link ObjectStore} in a local folder; writes go to a temporary file and are renamed in. */
export class FolderObjectStore implements ObjectStore {
  constructor(private readonly root: string) {}

  private file(key: string): string {
    const resolved = path.resolve(this.root, key);
    if (!resolved.startsWith(path.resolve(this.root) + path.sep))
      throw new Error(`object key escapes the store: ${key}`);
    return resolved;
  }

  async put(key: string, body: Uint8Array): Promise<string> {
    const target = this.file(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
    await fs.writeFile(temp, body);
    await fs.rename(temp, target);
    return sha256Hex(body);
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    const target = this.file(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
    await fs.writeFile(temp, body);
    try {
      await fs.link(temp, target); // fails with EEXIST when the key exists: atomic on one filesystem
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await fs.rm(temp, { force: true });
    }
  }

  async getHashed(key: string): Promise<{ bytes: Uint8Array; sha256: string }> {
    const bytes = await this.get(key);
    return { bytes, sha256: sha256Hex(bytes) };
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await fs.readFile(this.file(key)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.listDetailed(prefix)).map((o) => o.key);
  }

  async listDetailed(prefix: string): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (!e.name.includes('.tmp-')) {
          const key = path.relative(this.root, full).split(path.sep).join('/');
          if (!key.startsWith(prefix)) continue;
          const st = await fs.stat(full);
          found.push({ key, size: st.size, modified: st.mtime });
        }
      }
    };
    await walk(this.root);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }

  url(key: string): string {
    return `file://${this.file(key)}`;
  }
}
