/** Every workflow the worker registers. */
export { fig7Workflow } from './legacy-fig7';
export { childrenQuery, progressQuery, type Progress } from './progress';
export { pathSegmentWorkflow, pathTraceWorkflow, projectedPathWorkflow, seedPathWorkflow } from './projected-path';
export { studyWorkflow } from './study-workflow';
