/** Every workflow the worker registers. */
export { fig7Workflow, progressQuery } from './fig7-workflow';
export { pathSegmentWorkflow, pathTraceWorkflow, projectedPathWorkflow, seedPathWorkflow } from './projected-path-workflow';
