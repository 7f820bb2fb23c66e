import type { PathRow } from '../../src/experiments/projected-path/rows';
import { layout } from '../../src/storage/layout';
import type { ObjectStore } from '../../src/storage/object-store';
import type { ActivityDeps } from '../deps';

/** Every row of a run, ordered by seed then iteration. */
export async function readPathRows(store: ObjectStore, runId: string): Promise<PathRow[]> {
  const keys = (await store.list(layout.pathRowsPrefix(runId))).filter((k) => k.endsWith('.json')).sort();
  const chunks = await Promise.all(
    keys.map(async (k) => JSON.parse(Buffer.from(await store.get(k)).toString('utf8')) as PathRow[]),
  );
  return chunks.flat().sort((a, b) => a.seed - b.seed || a.iteration - b.iteration);
}

export function makeStorePathRows(deps: ActivityDeps) {
  /** Store one chunk of a seed's path (idempotent: a retry writes the same object). */
  return async function storePathRows(input: {
    runId: string;
    seed: number;
    chunk: number;
    rows: PathRow[];
  }): Promise<void> {
    const body = Buffer.from(JSON.stringify(input.rows));
    await deps.store.put(layout.pathRows(input.runId, input.seed, input.chunk), body, 'application/json');
  };
}
