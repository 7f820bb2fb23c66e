import type { ActivityDeps } from './deps';
import { makeAdvanceToyTrajectory, makeSummarizeFig7 } from './legacy-fig7';
import { makeProjectedPathActivities } from './projected-path';
import { makeStudyActivities } from './study/study-activities';

export type { ActivityDeps, LogEvent } from './deps';

/**
 * All activities, bound to their dependencies. Only the worker builds real clients; tests build
 * the same factory against the real test servers. Names never change: recorded histories name them.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...makeStudyActivities(deps),
    ...makeProjectedPathActivities(deps),
    // fig7Workflow's, for its runs started before fig7 became a study (see workflows/legacy-fig7.ts).
    advanceToyTrajectory: makeAdvanceToyTrajectory(deps),
    summarizeFig7: makeSummarizeFig7(deps),
  };
}

/** The activity interface workflows proxy (types only cross into workflow code). */
export type Activities = ReturnType<typeof createActivities>;
