import type { ActivityDeps } from '../deps';
import { makeBisectSegment } from './bisect-segment';
import { makeCheckConnected } from './check-connected';
import { makeCompositeCache } from './composite-cache';
import { makeEstimateTrace, makeEstimateTraces } from './estimate-trace';
import { makeStorePathRows } from './path-rows';
import { makePrepareStart } from './prepare-start';
import { makeProjectState } from './project-state';
import { makeReplayState } from './replay-state';
import { StageKit } from './stage';
import { makeSummarizeProjectedPath } from './summarize';
import { makeTrainSeed } from './train-seed';
import { PathWorkspace } from './workspace';

/** The projected-path engine's activities, one file per stage (workflows/projected-path.ts runs them). */
export function makeProjectedPathActivities(deps: ActivityDeps) {
  const ws = new PathWorkspace(deps.store, deps.config, deps.codeVersion);
  const kit = new StageKit(deps, ws);
  const stages = {
    projectState: makeProjectState(kit),
    replayState: makeReplayState(kit),
    checkConnected: makeCheckConnected(kit),
  };
  const estimateTrace = makeEstimateTrace(kit);
  return {
    trainSeed: makeTrainSeed(deps, ws),
    prepareStart: makePrepareStart(kit),
    ...stages,
    bisectSegment: makeBisectSegment(kit, stages),
    estimateTrace,
    estimateTraces: makeEstimateTraces(kit, estimateTrace),
    ...makeCompositeCache(deps),
    storePathRows: makeStorePathRows(deps),
    summarizeProjectedPath: makeSummarizeProjectedPath(deps),
  };
}
