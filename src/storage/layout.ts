/**
 * The object store's layout: every key and prefix repro reads or writes, in one place (the
 * README's "Storage layout" describes it). Runs own `runs/<id>/`; content-keyed answers and the
 * states they name live under `cache/`; the report index under `index/`.
 */
export const layout = {
  runsPrefix: 'runs/',
  /** Everything of one run. */
  run: (runId: string): string => `runs/${runId}/`,
  /** The finished run's result (with bulky fields such as a path's rows); written once, last but the index entry. */
  result: (runId: string): string => `runs/${runId}/result.json`,
  artifactsPrefix: (runId: string): string => `runs/${runId}/artifacts/`,
  artifact: (runId: string, name: string): string => `runs/${runId}/artifacts/${name}`,
  /** A projected path's rows, in chunks per seed. */
  pathRowsPrefix: (runId: string): string => `runs/${runId}/path/`,
  pathRows: (runId: string, seed: number, chunk: number): string =>
    `runs/${runId}/path/seed-${seed}/${String(chunk).padStart(6, '0')}.json`,
  /** A legacy fig7 trajectory's checkpoints (fig7Workflow, before fig7 became a study). */
  trajectory: (runId: string, track: string): string => `runs/${runId}/checkpoints/${track}/`,
  /** A study unit's checkpoints and output under `--no-cache`. */
  runUnit: (runId: string, unitId: string): string => `runs/${runId}/units/${encodeURIComponent(unitId)}/`,
  /** A projected-path seed's training under `--no-cache`. */
  runTraining: (runId: string, seed: number): string => `runs/${runId}/seed-${seed}/train/`,
  /** Work in progress of a stage (a projection's GD, a replay) under `--no-cache`. */
  runWork: (runId: string, kind: string, key: string): string => `runs/${runId}/${kind}/${key}/`,

  /** The run a key belongs to (`runs/<id>/...`), if any. */
  runOfKey: (key: string): string | undefined => /^runs\/([^/]+)\//.exec(key)?.[1],
  /** A run's results, kept forever: result, report and artifacts, path rows (the rest is working state). */
  isRunResult: (key: string): boolean => /^runs\/[^/]+\/(result\.json|artifacts\/|path\/)/.test(key),
  /** Strings in stored documents that name objects (state references, cache and run keys). */
  namesObject: (text: string): boolean => /^(cache|runs)\//.test(text),

  cachePrefix: 'cache/',
  /** A stage's cached answer (small JSON). */
  cachedAnswer: (stage: string, key: string): string => `cache/${stage}/${key}.json`,
  /**
   * Content-keyed folders: `units` (study units), `train` (SGD trajectories), `minima`,
   * `replays`, `starts` (committed states answers name), and work in progress (`projecting`,
   * `replaying`, `starting`).
   */
  cacheFolder: (kind: string, key: string): string => `cache/${kind}/${key}/`,

  indexFolder: 'index/',
  indexPrefix: 'index/runs/',
  /** One small object per finished run (its result without bulky rows), for the report index. */
  indexEntry: (runId: string): string => `index/runs/${runId}.json`,
  /** The prefix of the index entries of runs whose ids start with `runIdPrefix`. */
  indexEntries: (runIdPrefix: string): string => `index/runs/${runIdPrefix}`,
  /** The run id an index entry's key names. */
  runOfIndexEntry: (key: string): string => key.slice('index/runs/'.length).replace(/\.json$/, ''),
  indexPage: 'index/index.html',

  /**
   * A relative link from the object `from` to the object `to` (both keys under the same prefix),
   * each segment URL-encoded: it resolves to `to` wherever the bucket is served (an S3 endpoint's
   * path-style or virtual-host URL, a website endpoint, a mirror of the bucket on disk).
   */
  linkFrom: (from: string, to: string): string =>
    '../'.repeat(from.split('/').length - 1) + to.split('/').map(encodeURIComponent).join('/'),
} as const;
