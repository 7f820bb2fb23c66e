/**
 * The chart's rollout strategy per worker pool (workers.<pool>.strategy): by default the gpu pool
 * stops an old pod before it starts a new one (a surge pod in a full GPU pool never schedules, and
 * with maxUnavailable 0 the rollout would stall for good), the cpu pool surges; both are values,
 * rendered into each Deployment, checked by the schema and by the template where the schema cannot.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, test } from 'node:test';
import { CHART, ensureHelm, HELM, render, VALIDATE } from './helm-render';

before(ensureHelm);

type Strategy = { type: string; rollingUpdate?: { maxSurge: number | string; maxUnavailable: number | string } };

function strategies(sets: string[] = []): { cpu: Strategy; gpu: Strategy } {
  const { docs, yaml } = render([], sets);
  const r = spawnSync(VALIDATE, [], { input: yaml, encoding: 'utf8' });
  assert.equal(r.status, 0, `${sets.join(' ')}: ${r.stderr}`);
  const of = (name: string): Strategy =>
    (docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name)!.spec as { strategy: Strategy }).strategy;
  return { cpu: of('r-repro-cpu'), gpu: of('r-repro-gpu') };
}

/**
 * Whether a rolling update of `replicas` pods can finish in a pool with no room for one more pod:
 * Kubernetes' fenceposts (surge rounded up, unavailable down, unavailable 1 where both are 0), and
 * a surge pod that never schedules; the rollout must then stop an old pod to make progress.
 */
function progressesWhenFull(s: Strategy, replicas: number): boolean {
  if (s.type === 'Recreate') return true;
  const resolve = (v: number | string, up: boolean): number => {
    if (typeof v === 'number') return v;
    const x = (Number(v.replace('%', '')) * replicas) / 100;
    return up ? Math.ceil(x) : Math.floor(x);
  };
  const surge = resolve(s.rollingUpdate!.maxSurge, true);
  const unavailable = resolve(s.rollingUpdate!.maxUnavailable, false);
  return unavailable > 0 || surge === 0;
}

test('the default rollouts: the gpu pool stops before it starts (never stalls full), the cpu pool surges', () => {
  const { cpu, gpu } = strategies();
  assert.deepEqual(gpu, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  assert.deepEqual(cpu, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  for (const replicas of [1, 2, 8]) assert.ok(progressesWhenFull(gpu, replicas), `${replicas} full gpu pods roll`);
  // The former shared strategy, kept as the cpu pool's, would stall a full GPU pool: the model can tell.
  assert.equal(progressesWhenFull(cpu, 4), false);
});

test('each pool takes its own strategy from values: a percentage, Recreate (no rollingUpdate), surge on GPUs', () => {
  const pct = strategies(['workers.gpu.strategy.rollingUpdate.maxUnavailable=25%']).gpu;
  assert.deepEqual(pct.rollingUpdate, { maxSurge: 0, maxUnavailable: '25%' });
  assert.ok(progressesWhenFull(pct, 2), '25% of 2 rounds to 0, and Kubernetes takes 1');
  const recreate = strategies(['workers.gpu.strategy.type=Recreate']);
  assert.deepEqual(recreate.gpu, { type: 'Recreate' }, 'Kubernetes refuses rollingUpdate beside Recreate');
  assert.deepEqual(recreate.cpu.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 }, 'per pool');
  const spare = strategies([
    'workers.gpu.strategy.rollingUpdate.maxSurge=1',
    'workers.gpu.strategy.rollingUpdate.maxUnavailable=0',
  ]).gpu;
  assert.deepEqual(spare.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 }, 'an operator with spare GPUs may surge');
});

test('a strategy that can never replace a pod, or a wrong type, fails the render naming the value', () => {
  for (const [sets, expected] of [
    [
      ['workers.gpu.strategy.rollingUpdate.maxSurge=0', 'workers.gpu.strategy.rollingUpdate.maxUnavailable=0'],
      /workers\.gpu\.strategy\.rollingUpdate: maxSurge and maxUnavailable are both 0/,
    ],
    [
      ['workers.cpu.strategy.rollingUpdate.maxSurge=0%', 'workers.cpu.strategy.rollingUpdate.maxUnavailable=0'],
      /workers\.cpu\.strategy\.rollingUpdate: maxSurge and maxUnavailable are both 0/,
    ],
    [['workers.gpu.strategy.type=BlueGreen'], /\/workers\/gpu\/strategy\/type': value must be one of/],
    [
      ['workers.gpu.strategy.rollingUpdate.maxUnavailable=half'],
      /\/workers\/gpu\/strategy\/rollingUpdate\/maxUnavailable/,
    ],
    [['workers.cpu.strategy.rollingUpdate.maxSurg=1'], /additional properties 'maxSurg' not allowed/],
  ] as const) {
    const r = spawnSync(HELM, ['template', 'r', CHART, ...sets.flatMap((s) => ['--set', s])], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, `${sets.join(' ')} renders`);
    assert.match(r.stderr, expected, sets.join(' '));
  }
});
