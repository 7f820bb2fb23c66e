/** Every workflow the worker registers. */
export { fig7Workflow } from './fig7-workflow';
export { childrenQuery, progressQuery, type Progress } from './progress';
export {
  pathSegmentWorkflow,
  pathTraceWorkflow,
  projectedPathWorkflow,
  seedPathWorkflow,
} from './projected-path-workflow';
export { studyWorkflow } from './study-workflow';
