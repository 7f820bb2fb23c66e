import { createHash } from 'crypto';
import type { ObjectStore } from '../src/storage/object-store';
import { ObjectNotFoundError } from '../src/storage/object-store';

/**
 * Stage results cached under a content key: the hash of the stage name, its inputs' content
 * hashes, its configuration and the code version. A retry, a re-run or an overlapping
 * experiment that asks the same question gets the stored answer without computing.
 */
export function contentKey(stage: string, inputs: unknown): string {
  return createHash('sha256').update(JSON.stringify({ stage, inputs })).digest('hex');
}

export async function cachedStage<T>(store: ObjectStore, stage: string, inputs: unknown, enabled: boolean, compute: (key: string) => Promise<T>): Promise<{ value: T; hit: boolean; key: string }> {
  const key = contentKey(stage, inputs);
  const object = `cache/${stage}/${key}.json`;
  if (enabled) {
    try {
      return { value: JSON.parse(Buffer.from(await store.get(object)).toString('utf8')) as T, hit: true, key };
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError) && !(err instanceof SyntaxError)) throw err;
    }
  }
  const value = await compute(key);
  await store.put(object, Buffer.from(JSON.stringify(value)), 'application/json');
  return { value, hit: false, key };
}
