/**
 * "Version N+1" of the workflows for the rolling-upgrade test: the study workflow changed the way
 * a deployed change must be, behind `patched()` (here: it records its stage under a new name
 * first). A run started by version N replays through it without the patch; runs started by N+1
 * take it. Everything else is today's code.
 */
import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import { studyWorkflow as studyN } from '../../workflows/study-workflow';
import type { RunInput } from '../../workflows/run-input';
import type { RunResult } from '../../src/results/run-result';
import { SA } from '../../workflows/search-attributes';

export { fig7Workflow } from '../../workflows/legacy-fig7';
export { childrenQuery, progressQuery } from '../../workflows/progress';
export {
  pathSegmentWorkflow,
  pathTraceWorkflow,
  projectedPathWorkflow,
  seedPathWorkflow,
} from '../../workflows/projected-path';

export async function studyWorkflow(input: RunInput): Promise<RunResult> {
  if (patched('upgrade-test-n1')) upsertSearchAttributes([{ key: SA.stage, value: 'started by N+1' }]);
  return await studyN(input);
}
