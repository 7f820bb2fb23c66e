import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { runProgress } from '../../infra/cli/runs';

test(
  'repro status surfaces a failed progress query instead of swallowing it; ' +
    'a child not started yet is not a problem',
  async () => {
    const handles: Record<string, Partial<WorkflowHandle>> = {
      'run/x': {
        workflowId: 'run/x',
        query: (async (q: { name: string }) =>
          q.name === 'children' ? ['run/x/seed/1', 'run/x/seed/2'] : { seeds: { step: 0, of: 2 } }) as never,
        describe: (async () => ({ raw: { pendingActivities: [] } })) as never,
      },
      'run/x/seed/1': {
        workflowId: 'run/x/seed/1',
        query: (async () => {
          throw new Error('no poller seen for task queue repro-cpu\nmore');
        }) as never,
      },
      'run/x/seed/2': {
        workflowId: 'run/x/seed/2',
        query: (async () => {
          throw new WorkflowNotFoundError('not found', 'run/x/seed/2', undefined);
        }) as never,
      },
    };
    const client = { workflow: { getHandle: (id: string) => handles[id] } } as unknown as Client;
    const { progress, problems } = await runProgress(client, handles['run/x'] as WorkflowHandle);
    assert.deepEqual(progress, { seeds: { step: 0, of: 2 } });
    assert.deepEqual(problems, ['progress query of run/x/seed/1: no poller seen for task queue repro-cpu']);
  },
);

test("a study unit's step comes from its activity's last heartbeat while it runs", async () => {
  const beat = (v: unknown) => ({ heartbeatDetails: { payloads: [{ data: Buffer.from(JSON.stringify(v)) }] } });
  const handle = {
    workflowId: 'run/y',
    query: (async (q: { name: string }) =>
      q.name === 'children' ? [] : { 'unit a': { step: 0, of: 100 }, 'unit b': { step: 40, of: 100 } }) as never,
    describe: (async () => ({
      raw: { pendingActivities: [beat({ unit: 'a', step: 37 }), beat({ unit: 'b', step: 10 }), beat({ other: 1 })] },
    })) as never,
  } as Partial<WorkflowHandle>;
  const { progress, problems } = await runProgress(
    { workflow: { getHandle: () => handle } } as unknown as Client,
    handle as WorkflowHandle,
  );
  assert.deepEqual(
    progress,
    { 'unit a': { step: 37, of: 100 }, 'unit b': { step: 40, of: 100 } },
    'a heartbeat never moves a unit back',
  );
  assert.deepEqual(problems, []);
});

test("ETAs come from each part's measured rate since the run started", async () => {
  const { etaOf, formatDuration } = await import('../../infra/cli/progress-view');
  assert.equal(etaOf({ step: 25, of: 100 }, 60), '3m00s', '25 steps in 60 s: 75 more take 180 s');
  assert.equal(etaOf({ step: 0, of: 100 }, 60), '?', 'no rate before the first step');
  assert.equal(etaOf({ step: 100, of: 100 }, 60), 'done');
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(42.4), '42s');
});
