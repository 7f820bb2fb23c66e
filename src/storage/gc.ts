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
  /** The cutoff the plan was made with (ms since the epoch): anything newer is kept. */
  cutoff: number;
}

/** A checkpoint's folder (`.../<12-digit step>/`): its manifest and data are kept or collected together. */
const CHECKPOINT_DIR = /^(.*\/\d{12}\/)[^/]+$/;
const checkpointDir = (key: string): string | undefined => CHECKPOINT_DIR.exec(key)?.[1];

/** Object keys and key prefixes a JSON document names (StateRef `key`s, any `cache/` or `runs/` string). */
function references(doc: unknown, out: Set<string>): void {
  if (typeof doc === 'string') {
    if (layout.namesObject(doc)) out.add(checkpointDir(doc) ?? doc); // a named manifest names its checkpoint
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
 * index, a running run's objects, or anything newer than the cutoff; a checkpoint's manifest
 * and data go together or stay together. Any storage error aborts the plan (an unreadable
 * object would otherwise count as naming nothing).
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
    const text = Buffer.from(await store.get(o.key)).toString('utf8'); // a storage error aborts gc
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      continue; // not JSON: it names nothing
    }
    references(doc, named);
  }
  // A name covers the object itself and everything under it (a checkpoint's folder names its files).
  const isNamed = (key: string): boolean => {
    const parts = key.split('/');
    return parts.some((_, i) => {
      const prefix = parts.slice(0, i + 1).join('/');
      return named.has(prefix) || named.has(`${prefix}/`);
    });
  };
  // A checkpoint with any object kept keeps all of them (a manifest without its data is never left).
  const keptDirs = new Set(
    objects.filter((o) => !candidateKeys.has(o.key) || isNamed(o.key)).flatMap((o) => checkpointDir(o.key) ?? []),
  );
  const doomed = candidates.filter((c) => {
    if (isNamed(c.key)) keep('named by a kept object');
    else if (keptDirs.has(checkpointDir(c.key) ?? '\0')) keep('checkpoint with a kept part');
    else return true;
    return false;
  });
  // Commits and references first: a checkpoint without its manifest, or a state no answer names, is never read.
  doomed.sort((a, b) => Number(b.key.endsWith('.json')) - Number(a.key.endsWith('.json')) || (a.key < b.key ? -1 : 1));
  return { delete: doomed, bytes: doomed.reduce((s, o) => s + o.size, 0), kept, running, cutoff };
}

/** How gc asks again, just before deleting, what a run is doing now and whether any run is in flight. */
export interface GcRecheck {
  run(runId: string): Promise<RunState | undefined>;
  anyRunning(): Promise<boolean>;
}

/**
 * Deletes a plan's objects in its order; returns how many. Each run's state is asked again just
 * before its objects go (a run resumed or restarted since the plan keeps them), and cache entries
 * go only if still no run is in flight; an object rewritten since the plan (newer than its
 * cutoff) stays. Any storage error aborts.
 */
export async function applyGc(store: ObjectStore, plan: GcPlan, recheck?: GcRecheck): Promise<number> {
  const fresh = new Map<string, boolean>();
  const runMayGo = async (run: string): Promise<boolean> => {
    if (!recheck) return true;
    if (!fresh.has(run)) {
      const s = await recheck.run(run);
      fresh.set(run, !s?.running && (s?.closed?.getTime() ?? 0) <= plan.cutoff);
    }
    return fresh.get(run)!;
  };
  let cacheMayGo: boolean | undefined;
  const current = new Map((await store.listDetailed('')).map((o) => [o.key, o.modified.getTime()]));
  let deleted = 0;
  for (const o of plan.delete) {
    const run = layout.runOfKey(o.key);
    if (run !== undefined ? !(await runMayGo(run)) : !(cacheMayGo ??= !(await recheck?.anyRunning()))) continue;
    if ((current.get(o.key) ?? -Infinity) > plan.cutoff) continue;
    await store.delete(o.key);
    deleted++;
  }
  return deleted;
}
