import { defineQuery } from '@temporalio/workflow';

/** How far each part of a run has come; `repro status` prints it. */
export type Progress = Record<string, { step: number; of: number }>;

export const progressQuery = defineQuery<Progress>('progress');

/** Workflow ids of the children a run has started, so `repro status` can ask them too. */
export const childrenQuery = defineQuery<string[]>('children');
