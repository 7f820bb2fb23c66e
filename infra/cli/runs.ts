import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { QueryDefinition, TypedSearchAttributes } from '@temporalio/common';
import { decode, decodeMapFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { Mark } from '../../src/runs/progress-marks';
import { childrenQuery, progressQuery, type Progress } from '../../workflows/progress';
import { randomBytes } from 'crypto';
import type { ReproConfig } from '../../temporal.config';
import { ObjectNotFoundError, type ObjectStore } from '../../src/storage/object-store';
import type { Params } from '../../src/experiments/params';
import type { Experiment } from '../../src/experiments/experiment';
import { measurementText, predictionText } from '../../src/report/claim-text';
import type { RunResult } from '../../src/results/run-result';
import { isRunWorkflowId, runIdOfWorkflow, runWorkflowId } from '../../src/runs/ids';
import { layout } from '../../src/storage/layout';
import type { RunInput } from '../../workflows/run-input';
import { registerCommand, runSummary, startAttributes } from '../../workflows/search-attributes';
import { codeVersion } from '../clients';
import { UsageError } from './context';

/** A fresh, sortable, readable run id: `<experiment>-<UTC time>-<random>`. */
export function newRunId(experiment: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${experiment}-${t}-${randomBytes(3).toString('hex')}`;
}

/**
 * What a run's workflow receives. `runId` '' is a scheduled run's: one input serves every run of
 * the schedule, and each takes its id from its workflow id (`runIdOf`).
 */
export function runInput(
  config: ReproConfig,
  experiment: Experiment,
  preset: string,
  params: Params,
  seed: number,
  runId: string,
  noCache: boolean,
): RunInput {
  return {
    runId,
    experiment: experiment.name,
    preset,
    params,
    seed,
    taskQueues: config.taskQueues,
    timeouts: {
      heartbeatMs: config.timeouts.heartbeatMs,
      activityStartToCloseMs: config.timeouts.activityStartToCloseMs,
    },
    noCache,
    continueAsNewEvents: config.workflows.continueAsNewEvents,
  };
}

/**
 * What the Web UI and `repro list` know of a run from its start: search attributes (experiment,
 * preset, seed, stage, code version), a one-line summary and details. The same for runs started
 * by hand, resumed, or by a schedule.
 */
export function runStartOptions(
  config: ReproConfig,
  input: RunInput,
): Pick<WorkflowStartOptions, 'typedSearchAttributes' | 'staticSummary' | 'staticDetails'> {
  return { typedSearchAttributes: startAttributes(input, codeVersion()), ...runSummary(input, config.s3) };
}

/** A start refused for unregistered search attributes becomes a one-line error with the fix. */
export async function withSearchAttributesHint<T>(config: ReproConfig, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (/search attribute/i.test((err as Error).message)) {
      throw new Error(
        `namespace ${config.temporal.namespace} lacks repro's search attributes ` +
          `(${(err as Error).message.split('\n')[0]}); ` +
          `register them once: ${registerCommand(config.temporal.namespace)}`,
      );
    }
    throw err;
  }
}

/** Start an experiment's workflow; returns its handle. */
export async function startRun(
  client: Client,
  config: ReproConfig,
  experiment: Experiment,
  preset: string,
  params: Params,
  seed: number,
  runId = newRunId(experiment.name),
  noCache = false,
): Promise<WorkflowHandle> {
  const input = runInput(config, experiment, preset, params, seed, runId, noCache);
  try {
    return await withSearchAttributesHint(config, () =>
      client.workflow.start(experiment.workflowType, {
        workflowId: runWorkflowId(runId),
        taskQueue: config.taskQueues.cpu,
        args: [input],
        memo: { experiment: experiment.name, preset, seed },
        // An id names one run forever: the server refuses a second start under it, open or closed.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        ...runStartOptions(config, input),
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new UsageError(
        `run id '${runId}' is taken: an id names one run forever; \`repro resume ${runId}\` restarts ` +
          'it if it failed or was cancelled, or give another --id',
      );
    }
    throw err;
  }
}

/** The handle of an existing run, or a one-line error saying how to find runs. */
export async function findRun(client: Client, runId: string): Promise<{ handle: WorkflowHandle; status: string }> {
  const id = runWorkflowId(runIdOfWorkflow(runId));
  const handle = client.workflow.getHandle(id);
  try {
    const d = await handle.describe();
    return { handle, status: d.status.name };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new Error(`no run '${runId}' in namespace ${client.options.namespace}; \`repro list\` shows runs`);
    throw err;
  }
}

/**
 * Wait for a run's result; a failed run becomes a one-line error with the cause. The workflow
 * returns a summary small enough for a Temporal payload; the full result (a projected path's
 * rows, say) is `runs/<id>/result.json`, read from `store` when given.
 */
export async function awaitResult(handle: WorkflowHandle, store?: ObjectStore): Promise<RunResult> {
  try {
    const summary = (await handle.result()) as RunResult;
    if (!store) return summary;
    try {
      return JSON.parse(Buffer.from(await store.get(layout.result(summary.runId))).toString('utf8')) as RunResult;
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return summary;
      throw err;
    }
  } catch (err) {
    let cause: unknown = err;
    while ((cause as { cause?: unknown }).cause) cause = (cause as { cause: unknown }).cause;
    throw new Error(`run ${runIdOfWorkflow(handle.workflowId)} did not complete: ${(cause as Error).message}`);
  }
}

/** A run result as a short human summary. */
export function formatResult(r: RunResult): string {
  const time = r.summary.time as { wallSeconds: number; computeSeconds: number } | undefined;
  const lines = [
    `run ${r.runId}: ${r.experiment} (preset ${r.preset}, seed ${r.seed}, ${r.backends.join(', ')})`,
    ...r.claims.map(
      (c) =>
        `  [${c.verdict}] ${c.id} (${c.kind}): predicted ${predictionText(c)}, measured ${measurementText(c)}` +
        (c.note ? ` (${c.note})` : ''),
    ),
    ...(time ? [`  time: wall ${time.wallSeconds} s, numerics ${time.computeSeconds} s`] : []),
    ...Object.entries(r.artifacts).map(([k, v]) => `  ${k}: ${v}`),
  ];
  return lines.join('\n');
}

/**
 * A run's progress, with that of its running children (a projected path's seeds) under their
 * ids relative to the run: `seed/1 training (epochs): 3 of 5`. A query that fails says why in
 * `problems` (a child not started yet is not a problem: it has no progress to show).
 */
export async function runProgress(
  client: Client,
  handle: WorkflowHandle,
): Promise<{ progress?: Progress; problems: string[] }> {
  const problems: string[] = [];
  const ask = async <T>(h: WorkflowHandle, query: QueryDefinition<T>, what: string): Promise<T | undefined> => {
    try {
      return await h.query(query);
    } catch (err) {
      // A run started before its workflow answered the children query has none: not a problem.
      const unanswered = query === childrenQuery && /did not register a handler for children/.test(String(err));
      if (!(err instanceof WorkflowNotFoundError) && !unanswered)
        problems.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
      return undefined;
    }
  };
  const own = await ask(handle, progressQuery, 'progress query');
  const children = (await ask(handle, childrenQuery, 'children query')) ?? [];
  const out: Progress = { ...own };
  for (const id of children) {
    const child = await ask(client.workflow.getHandle(id), progressQuery, `progress query of ${id}`);
    for (const [k, v] of Object.entries(child ?? {})) out[`${id.slice(handle.workflowId.length + 1)} ${k}`] = v;
  }
  // A study's units report their step in heartbeats: show it before the unit's activity returns.
  try {
    // Raw heartbeat payloads: opened by the client's codec first (ciphertext when encryption is on).
    const codecs = client.options?.loadedDataConverter?.payloadCodecs ?? [];
    for (const a of (await handle.describe()).raw.pendingActivities ?? []) {
      const first = a.heartbeatDetails?.payloads?.slice(0, 1) ?? [];
      const payload = first.length ? (await decode(codecs, first))[0]?.data : undefined;
      const beat = payload
        ? (JSON.parse(Buffer.from(payload).toString()) as { unit?: string; step?: number; marks?: Mark[] })
        : undefined;
      const key = beat?.unit !== undefined ? `unit ${beat.unit}` : undefined;
      if (key && out[key] && typeof beat!.step === 'number')
        out[key] = {
          ...out[key]!,
          step: Math.max(out[key]!.step, beat!.step),
          // The attempt's own marks (its steps as it took them) rather than the workflow's per segment.
          ...(Array.isArray(beat!.marks) && beat!.marks.length ? { marks: beat!.marks } : {}),
        };
    }
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) problems.push(`describe: ${(err as Error).message.split('\n')[0]}`);
  }
  return { progress: own || children.length ? out : undefined, problems };
}

/** A run as visibility lists it, read without the payload codec (search attributes are never encoded). */
export interface ListedRun {
  workflowId: string;
  status: string;
  startTime?: Date;
  closeTime?: Date;
  attributes: TypedSearchAttributes;
  /** The memo, when it is readable here (absent for a run encrypted under a key this client lacks). */
  memo?: Record<string, unknown>;
}

/**
 * Top-level runs matching a visibility query, newest first, through the raw list call: a run
 * whose payloads are encrypted under a key this client does not hold is listed, not an error.
 */
export async function* listRuns(client: Client, query?: string): AsyncGenerator<ListedRun> {
  let nextPageToken: Uint8Array | undefined;
  const prefix = 'WORKFLOW_EXECUTION_STATUS_';
  do {
    const page = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query: query ?? '',
      pageSize: 100,
      nextPageToken,
    });
    for (const e of page.executions ?? []) {
      const workflowId = e.execution?.workflowId ?? '';
      if (!isRunWorkflowId(workflowId)) continue;
      let memo: Record<string, unknown> | undefined;
      try {
        memo = await decodeMapFromPayloads(client.options.loadedDataConverter, e.memo?.fields ?? {});
      } catch {
        memo = undefined;
      }
      yield {
        workflowId,
        status: temporal.api.enums.v1.WorkflowExecutionStatus[e.status ?? 0]!.replace(prefix, ''),
        startTime: optionalTsToDate(e.startTime),
        closeTime: optionalTsToDate(e.closeTime),
        attributes: decodeTypedSearchAttributes(e.searchAttributes?.indexedFields),
        memo,
      };
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
}
