import type { Params } from '../../src/experiments/params';
import type { PathRow } from '../../src/experiments/projected-path/rows';
import { layout } from '../../src/storage/layout';
import type { ObjectStore } from '../../src/storage/object-store';
import type { ActivityDeps } from '../deps';
import { nonRetryable } from '../failures';
import { contentKey } from '../stage-cache';

/** What a run's rows were computed for: its experiment, parameters and seed. */
export interface RunInputs {
  experiment: string;
  params: Params;
  seed: number;
}

/** The identity a run's stored rows carry (and are checked against on read). */
export const runIdentity = (i: RunInputs): string =>
  contentKey('run', { experiment: i.experiment, params: i.params, seed: i.seed });

/** A stored chunk of rows: the identity of the run inputs that computed them, and the rows. */
interface StoredRows {
  identity: string;
  rows: PathRow[];
}

/**
 * Every row of a run, ordered by seed then iteration: only its seeds' chunks, each checked to be
 * of the run's inputs (rows another input left under the same run id are an `InputMismatch`,
 * never read as this run's). Chunks written before rows carried an identity are read as they are.
 */
export async function readPathRows(
  store: ObjectStore,
  runId: string,
  inputs: RunInputs,
  seeds: readonly number[],
): Promise<PathRow[]> {
  const identity = runIdentity(inputs);
  const prefix = layout.pathRowsPrefix(runId);
  const keys = (await store.list(prefix)).filter((k) => k.endsWith('.json')).sort();
  const chunks = await Promise.all(
    keys.map(async (k) => {
      const stored = JSON.parse(Buffer.from(await store.get(k)).toString('utf8')) as StoredRows | PathRow[];
      const rows = Array.isArray(stored) ? stored : stored.rows;
      const foreign = !Array.isArray(stored) && stored.identity !== identity;
      if (foreign || rows.some((r) => !seeds.includes(r.seed))) {
        throw nonRetryable(
          `path rows ${k} were written for other inputs than run ${runId}'s; remove ${prefix} or run with a new id`,
          'InputMismatch',
        );
      }
      return rows;
    }),
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
    /** The run's inputs, whose identity the chunk carries (absent in histories from before it existed). */
    run?: RunInputs;
  }): Promise<void> {
    const body = input.run ? { identity: runIdentity(input.run), rows: input.rows } : input.rows;
    await deps.store.put(
      layout.pathRows(input.runId, input.seed, input.chunk),
      Buffer.from(JSON.stringify(body)),
      'application/json',
    );
  };
}
