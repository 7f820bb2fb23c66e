import { makeAdvanceToyTrajectory } from './advance-toy-trajectory';
import type { ActivityDeps } from './deps';
import { makeSummarizeFig7 } from './summarize-fig7';
import { makePathStages } from './pipeline/path-stages';
import { makeCompositeCache } from './pipeline/composite-cache';
import { makeStorePathRows } from './pipeline/path-rows';
import { makeSummarizeProjectedPath } from './pipeline/summarize-projected-path';
import { makeTrainSeed } from './pipeline/train-seed';
import { PipelineWorkspace } from './pipeline/workspace';
import { makeStudyActivities } from './study/study-activities';

export type { ActivityDeps, LogEvent } from './deps';
export { keys } from './deps';

/**
 * All activities, bound to their dependencies. Only the worker builds real clients; tests build
 * the same factory against the real test servers.
 */
export function createActivities(deps: ActivityDeps) {
  const workspace = new PipelineWorkspace(deps.store, deps.config);
  return {
    advanceToyTrajectory: makeAdvanceToyTrajectory(deps),
    summarizeFig7: makeSummarizeFig7(deps),
    trainSeed: makeTrainSeed(deps, workspace),
    ...makePathStages(deps, workspace),
    ...makeCompositeCache(deps),
    storePathRows: makeStorePathRows(deps),
    summarizeProjectedPath: makeSummarizeProjectedPath(deps),
    ...makeStudyActivities(deps),
  };
}

/** The activity interface workflows proxy (types only cross into workflow code). */
export type Activities = ReturnType<typeof createActivities>;
