/**
 * Where a study unit lives and how its stored state is checked. A unit's identity is a content key
 * of everything that decides it (experiment, parameters, seed, the unit, the code, the numeric
 * backend); its checkpoints and output live under that key (a re-run or an overlapping run finds
 * it done) or, with `--no-cache`, under the run's own prefix. Every checkpoint and output carries
 * the identity and is checked on read: an object of other inputs is an `InputMismatch`, never a
 * silent resume.
 */
import type { CheckpointStore, LoadedCheckpoint } from '../../src/checkpoint/checkpoint-store';
import type { UnitSpec } from '../../src/experiments/experiment';
import type { Params } from '../../src/experiments/params';
import { layout } from '../../src/storage/layout';
import { ObjectNotFoundError, type ObjectStore } from '../../src/storage/object-store';
import { nonRetryable } from '../failures';
import { contentKey } from '../stage-cache';

/** Where a unit's objects are and what they must carry. Small: workflows record it per unit. */
export interface UnitKey {
  root: string;
  identity: string;
}

export function unitKey(
  i: { runId: string; experiment: string; params: Params; seed: number; noCache: boolean },
  unit: UnitSpec,
  code: string,
  backend: string,
  /** The content identities of the data sets the study reads (absent: it reads none, and keys stay as they were). */
  data?: Record<string, string>,
): UnitKey {
  const identity = contentKey('unit', {
    experiment: i.experiment,
    params: i.params,
    seed: i.seed,
    unit,
    code,
    backend,
    ...(data && Object.keys(data).length ? { data } : {}),
  });
  // Under the run's prefix too, one folder per key: a worker of another version starts the unit over beside it.
  const root = i.noCache
    ? `${layout.runUnit(i.runId, unit.id)}${identity.slice(0, 16)}/`
    : layout.cacheFolder('units', identity);
  return { root, identity };
}

const outputKey = (root: string): string => `${root}output.json`;

/** A stored object of other inputs than the ones asked for. */
const mismatch = (what: string, key: UnitKey, found: unknown) =>
  nonRetryable(
    `${what} under ${key.root} belongs to other inputs (identity ${String(found).slice(0, 12)}…, ` +
      `expected ${key.identity.slice(0, 12)}…); remove it or run with a new id`,
    'InputMismatch',
  );

/** The unit's output, or undefined when none is stored (an output of an older format counts as none). */
export async function readUnitOutput(store: ObjectStore, key: UnitKey): Promise<unknown | undefined> {
  let stored: { identity?: string; output?: unknown };
  try {
    stored = JSON.parse(Buffer.from(await store.get(outputKey(key.root))).toString('utf8'));
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
  if (typeof stored !== 'object' || stored === null || !('identity' in stored)) return undefined;
  if (stored.identity !== key.identity) throw mismatch('unit output', key, stored.identity);
  return stored.output;
}

export async function writeUnitOutput(store: ObjectStore, key: UnitKey, output: unknown): Promise<void> {
  const body = Buffer.from(JSON.stringify({ identity: key.identity, output }));
  await store.put(outputKey(key.root), body, 'application/json');
}

/** The unit's newest valid checkpoint (at most `maxStep`), checked to be of its inputs. */
export async function loadUnitCheckpoint(
  checkpoints: CheckpointStore,
  key: UnitKey,
  onSkip: (s: { manifestKey: string; reason: string }) => void,
  maxStep?: number,
): Promise<LoadedCheckpoint | undefined> {
  const latest = await checkpoints.loadLatest(key.root, onSkip, maxStep);
  if (latest && latest.manifest.meta.identity !== key.identity)
    throw mismatch('checkpoint', key, latest.manifest.meta.identity);
  return latest;
}
