import { createHash } from 'crypto';
import type { ObjectStore } from '../src/storage/object-store';
import { ObjectNotFoundError } from '../src/storage/object-store';
import { layout } from '../src/storage/layout';

/**
 * Stage results cached under a content key: the hash of the stage name, its inputs' content
 * hashes, its configuration and the code version. A retry, a re-run or an overlapping
 * experiment that asks the same question gets the stored answer without computing.
 */
export function contentKey(stage: string, inputs: unknown): string {
  return createHash('sha256').update(JSON.stringify({ stage, inputs })).digest('hex');
}

/** What a stage returns when the worker is stopping before it finished: nothing is cached. */
export interface Preempted {
  preempted: true;
}

export const isPreempted = (v: unknown): v is Preempted =>
  typeof v === 'object' && v !== null && (v as Preempted).preempted === true;

/** The cached answer for `inputs`, or undefined (an unreadable entry counts as absent). */
export async function readCached<T>(store: ObjectStore, stage: string, inputs: unknown): Promise<T | undefined> {
  try {
    return JSON.parse(
      Buffer.from(await store.get(layout.cachedAnswer(stage, contentKey(stage, inputs)))).toString('utf8'),
    ) as T;
  } catch (err) {
    if (err instanceof ObjectNotFoundError || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

export async function writeCached(store: ObjectStore, stage: string, inputs: unknown, value: unknown): Promise<void> {
  await store.put(
    layout.cachedAnswer(stage, contentKey(stage, inputs)),
    Buffer.from(JSON.stringify(value)),
    'application/json',
  );
}

export async function cachedStage<T>(
  store: ObjectStore,
  stage: string,
  inputs: unknown,
  enabled: boolean,
  compute: (key: string) => Promise<T | Preempted>,
  /** Queue the answer's write instead of waiting for it (see {@link WriteBehind}). */
  behind?: WriteBehind,
): Promise<{ value: T; hit: boolean; key: string } | Preempted> {
  const key = contentKey(stage, inputs);
  if (enabled) {
    const cached = await readCached<T>(store, stage, inputs);
    if (cached !== undefined) return { value: cached, hit: true, key };
  }
  const value = await compute(key);
  if (isPreempted(value)) return value;
  if (behind) behind.add(() => writeCached(store, stage, inputs, value));
  else await writeCached(store, stage, inputs, value);
  return { value, hit: false, key };
}

/**
 * Writes that trail the work that produced them: queued in order, each after the one before, so
 * a state lands before the answer that names it; after a failed write nothing more is written and
 * {@link flush} throws it. Whoever queues must flush before answering: an activity that returns
 * has its writes landed. A state queued here is held in the worker's memory meanwhile, and a read
 * of S3 that misses memory waits for the queued writes first (PathWorkspace.loadState).
 */
export class WriteBehind {
  private chain: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  constructor(private readonly onQueue: (chain: Promise<void>) => void = () => {}) {}

  /** Queue `write` after every write queued before it. */
  add(write: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await write();
      } catch (error) {
        this.failure = { error };
      }
    });
    this.onQueue(this.chain);
  }

  /** Wait for every queued write; throws the first that failed. */
  async flush(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure.error;
  }
}

/** Adds up the time spent in numerics, so results can tell compute from orchestration. */
export class Stopwatch {
  ms = 0;

  async time<R>(f: () => R | Promise<R>): Promise<R> {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      this.ms += performance.now() - t0;
    }
  }
}
