/**
 * The gpu queue's slots held in the worker: activities past the slots wait their turn in order,
 * heartbeating; a cancelled one leaves the queue. Driven in mock activity contexts, no server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { GpuSlots } from '../../infra/worker/gpu-slots';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('activities beyond the slots wait in order and never overlap', async () => {
  const slots = new GpuSlots(1);
  const order: string[] = [];
  let running = 0;
  const job = (name: string, ms: number) => async () => {
    running++;
    assert.equal(running, 1, `${name} runs alone`);
    order.push(`${name} start`);
    await sleep(ms);
    order.push(`${name} end`);
    running--;
    return name;
  };
  const run = (name: string, ms: number) => new MockActivityEnvironment().run(() => slots.run(job(name, ms)));
  const results = await Promise.all([run('a', 30), run('b', 5), run('c', 5)]);
  assert.deepEqual(results, ['a', 'b', 'c']);
  assert.deepEqual(order, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
});

test('a waiting activity heartbeats, and a cancelled one leaves without running', async () => {
  const slots = new GpuSlots(1);
  let release!: () => void;
  const first = new MockActivityEnvironment().run(() => slots.run(() => new Promise<void>((r) => (release = r))));
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  let ran = false;
  const waiting = env.run(() => slots.run(async () => (ran = true)));
  await sleep(1200);
  assert.deepEqual(beats[0], { stage: 'waiting for a gpu slot' });
  env.cancel();
  await assert.rejects(waiting);
  release();
  await first;
  assert.equal(ran, false);
  // The slot is free again: the next one runs at once.
  assert.equal(await new MockActivityEnvironment().run(() => slots.run(async () => 7)), 7);
});
