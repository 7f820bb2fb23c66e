import { layout } from './layout';
import type { ObjectInfo, ObjectStore } from './object-store';

/** What gc knows of a run from Temporal: running or not, and when it closed. */
export interface RunState {
  running: boolean;
  /** Absent for a run Temporal no longer knows (its history expired): its newest object's time counts. */
  closed?: Date;
}

export interface GcPlan {
  /** Objects to delete, commits (`*.json`) before the data they commit or refer to. */
  delete: ObjectInfo[];
  bytes: number;
  /** Why the rest was kept, counted (`results of run X`, `running run Y`, ...). */
  kept: Record<string, number>;
  /** Runs in flight: while any is, no cache entry is collected. */
  running: string[];
}

/** Object keys and key prefixes a JSON document names (StateRef `key`s, any `cache/` or `runs/` string). */
function references(doc: unknown, out: Set<string>): void {
  if (typeof doc === 'string') {
    if (layout.namesObject(doc)) out.add(doc);
  } else if (Array.isArray(doc)) {
    for (const d of doc) references(d, out);
  } else if (doc && typeof doc === 'object') {
    for (const v of Object.values(doc)) references(v, out);
  }
}

/**
 * What `repro gc` deletes: the working state (checkpoints, replays, work in progress) of runs
 * that are not running and closed more than `olderThanMs` ago, and cache entries last written
 * more than `olderThanMs` ago that no kept object refers to, the latter only while no run is in
 * flight (a running run may be about to read any cache entry). Never a run's results, the
 * index, a running run's objects, or anything newer than the cutoff.
 */
export async function planGc(
  store: ObjectStore,
  runs: ReadonlyMap<string, RunState>,
  olderThanMs: number,
  now = new Date(),
): Promise<GcPlan> {
  const cutoff = now.getTime() - olderThanMs;
  const objects = await store.listDetailed('');
  const kept: Record<string, number> = {};
  const keep = (why: string): void => {
    kept[why] = (kept[why] ?? 0) + 1;
  };
  const running = [...runs]
    .filter(([, s]) => s.running)
    .map(([id]) => id)
    .sort();
  const newestOfRun = new Map<string, number>();
  for (const o of objects) {
    const run = layout.runOfKey(o.key);
    if (run) newestOfRun.set(run, Math.max(newestOfRun.get(run) ?? 0, o.modified.getTime()));
  }
  const candidates: ObjectInfo[] = [];
  for (const o of objects) {
    const run = layout.runOfKey(o.key);
    if (run !== undefined) {
      const state = runs.get(run);
      if (layout.isRunResult(o.key)) keep('run results');
      else if (state?.running) keep('running runs');
      else if ((state?.closed?.getTime() ?? newestOfRun.get(run)!) > cutoff) keep('runs closed within the cutoff');
      else candidates.push(o);
    } else if (o.key.startsWith(layout.cachePrefix)) {
      if (running.length) keep('cache (runs in flight)');
      else if (o.modified.getTime() > cutoff) keep('cache written within the cutoff');
      else candidates.push(o);
    } else {
      keep('index and other');
    }
  }
  // What kept JSON documents refer to stays (a cached answer and the minima it names go together).
  const candidateKeys = new Set(candidates.map((c) => c.key));
  const named = new Set<string>();
  for (const o of objects) {
    if (!o.key.endsWith('.json') || candidateKeys.has(o.key) || o.key.startsWith(layout.indexFolder)) continue;
    try {
      references(JSON.parse(Buffer.from(await store.get(o.key)).toString('utf8')), named);
    } catch {
      // not JSON we can read: it names nothing
    }
  }
  // A name covers the object itself and everything under it (a checkpoint's prefix names its files).
  const isNamed = (key: string): boolean => {
    const parts = key.split('/');
    return parts.some((_, i) => {
      const prefix = parts.slice(0, i + 1).join('/');
      return named.has(prefix) || named.has(`${prefix}/`);
    });
  };
  const doomed = candidates.filter((c) => {
    if (!isNamed(c.key)) return true;
    keep('named by a kept object');
    return false;
  });
  // Commits and references first: a checkpoint without its manifest, or a state no answer names, is never read.
  doomed.sort((a, b) => Number(b.key.endsWith('.json')) - Number(a.key.endsWith('.json')) || (a.key < b.key ? -1 : 1));
  return { delete: doomed, bytes: doomed.reduce((s, o) => s + o.size, 0), kept, running };
}

/** Deletes a plan's objects in its order; returns how many. */
export async function applyGc(store: ObjectStore, plan: GcPlan): Promise<number> {
  for (const o of plan.delete) await store.delete(o.key);
  return plan.delete.length;
}
