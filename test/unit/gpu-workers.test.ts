/**
 * `repro worker --gpus N` without Temporal or a GPU: which device each child process pins, the
 * command line and environment each gets, and the supervisor's restarts and SIGTERM, on stand-in
 * children (`node -e`) that start no server.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { resolveConfig } from '../../temporal.config';
import { assignDevices, gpuWorkerPlan, startChildWorkers } from '../../infra/worker/child-workers';
import { threadsPerGpuWorker } from '../../infra/worker/gpu-workers';

test('assignDevices: 0..N-1 without CUDA_VISIBLE_DEVICES, else the visible entries in order', () => {
  assert.deepEqual(assignDevices(undefined, 3), ['0', '1', '2']);
  assert.deepEqual(assignDevices('4,5,6,7', 2), ['4', '5']);
  assert.deepEqual(assignDevices(' 2 , 3 ', 2), ['2', '3']);
  const uuids = 'GPU-8932f937-d72c-4106-c12f-20bd9faed9f6,GPU-0d7c1cb6-8f0e-2a1e-7a9b-6c3d2b3c4e5f';
  assert.deepEqual(assignDevices(uuids, 2), uuids.split(','));
  const mig = 'MIG-41b3f4b0-b8b0-5f9a-9e2a-0c0d2e1f3a4b,MIG-GPU-8932f937-d72c-4106-c12f-20bd9faed9f6/1/0';
  assert.deepEqual(assignDevices(mig, 2), mig.split(','));
});

test('assignDevices: more workers than visible devices is one line naming both and the fix', () => {
  assert.throws(
    () => assignDevices('0', 2),
    (e: Error) =>
      e.message.startsWith('worker.gpus 2: CUDA_VISIBLE_DEVICES="0" shows 1 device(s); ') &&
      e.message.includes('set REPRO_WORKER_GPUS (--gpus) to at most 1') &&
      !e.message.includes('\n'),
  );
  assert.throws(() => assignDevices('', 1), /shows 0 device\(s\)/);
  // CUDA stops at an entry it cannot parse: `-1` hides what follows.
  assert.throws(() => assignDevices('0,-1,1', 2), /shows 1 device\(s\) \(CUDA ignores "-1" and what follows\)/);
  assert.throws(() => assignDevices(undefined, 0), /worker\.gpus 0: must be a positive integer/);
});

test('threads per gpu worker: an equal share of the cores, at least one, or torch.threads where set', () => {
  assert.equal(threadsPerGpuWorker(0, 16, 4), 4);
  assert.equal(threadsPerGpuWorker(0, 10, 4), 2);
  assert.equal(threadsPerGpuWorker(0, 2, 8), 1);
  assert.equal(threadsPerGpuWorker(6, 16, 4), 6);
});

test('the spawn plan: each child on its own device, the gpu queue, one slot, no children, own metrics ports', () => {
  const devices = assignDevices('GPU-aa,GPU-bb', 2);
  const plan = gpuWorkerPlan(
    devices,
    8,
    { config: '/etc/repro/config/config.json', backend: 'torch', conf: ['worker.gpus=2', 'torch.tf32=true'] },
    [
      { metricsPort: 40001, sdkMetricsPort: 40002 },
      { metricsPort: 40003, sdkMetricsPort: 40004 },
    ],
  );
  assert.deepEqual(
    plan.map((p) => p.env),
    [{ CUDA_VISIBLE_DEVICES: 'GPU-aa' }, { CUDA_VISIBLE_DEVICES: 'GPU-bb' }],
  );
  for (const [i, { args }] of plan.entries()) {
    assert.match(args[0]!, /infra[/\\]cli[/\\]main\.js$/);
    assert.deepEqual(args.slice(1, 5), ['worker', '--queue', 'gpu', '--activities-only']);
    assert.deepEqual(args.slice(5, 9), ['--config', '/etc/repro/config/config.json', '--backend', 'torch']);
    // The child's config, as its loader resolves it: its --conf pairs over an inherited REPRO_WORKER_GPUS.
    const flags: Record<string, string> = {};
    args.forEach((a, j) => {
      if (a !== '--conf') return;
      const pair = args[j + 1]!;
      flags[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
    });
    const c = resolveConfig({ env: { REPRO_WORKER_GPUS: '2', REPRO_WORKER_GPU_SLOTS: '4' }, flags });
    assert.equal(c.worker.gpus, 0, 'a child starts no children of its own');
    assert.equal(c.worker.gpuSlots, 1, 'one model per device');
    assert.equal(c.torch.threads, 8);
    assert.equal(c.torch.tf32, true, "the parent's own --conf reaches the child");
    // Its own loopback ports: the parent serves them all, merged, on the pod's (pod-metrics.ts).
    assert.deepEqual(
      [c.worker.metricsHost, c.worker.metricsPort, c.worker.sdkMetricsPort],
      ['127.0.0.1', 40001 + 2 * i, 40002 + 2 * i],
    );
  }
});

// The handler first, then "up": a pipe write is synchronous, so the parent could read "up" and
// send SIGTERM before a handler registered after it (the child then died without checkpointing).
const stayUp = (marker: string): string[] => [
  '-e',
  `process.on('SIGTERM', () => setTimeout(() => { process.stdout.write('${marker} checkpointed\\n'); ` +
    `process.exit(0); }, 200)); process.stdout.write('${marker} up\\n'); setInterval(() => {}, 1000);`,
];

test('the supervisor: SIGTERM reaches every child and stop() waits until each has finished', async () => {
  let out = '';
  const kids = startChildWorkers(
    [
      { args: stayUp('a'), env: {} },
      { args: stayUp('b'), env: {} },
    ],
    (l) => (out += l),
  );
  while (!(out.includes('a up') && out.includes('b up'))) await new Promise((r) => setTimeout(r, 20));
  await kids.stop();
  assert.match(out, /a checkpointed/);
  assert.match(out, /b checkpointed/);
});

test('the supervisor: a dying child restarts with the same device, then the set fails in one line', async () => {
  let out = '';
  const kids = startChildWorkers(
    [
      {
        args: ['-e', 'console.log("on " + process.env.CUDA_VISIBLE_DEVICES); process.exit(3)'],
        env: { CUDA_VISIBLE_DEVICES: 'MIG-x' },
      },
    ],
    (l) => (out += l),
    2,
  );
  await assert.rejects(
    kids.failed,
    /^Error: child worker 0 CUDA_VISIBLE_DEVICES=MIG-x exited 3 times \(last: code 3\); its errors are above$/,
  );
  assert.equal(out.match(/on MIG-x/g)?.length, 3, 'started three times, each on its own device');
  assert.equal(out.match(/"event":"child-worker-exited","index":0,"CUDA_VISIBLE_DEVICES":"MIG-x"/g)?.length, 3);
  await kids.stop();
});

/** The CLI, in an empty folder with no repro or Temporal variables: nothing here reaches a server. */
function cli(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(REPRO|TEMPORAL)_/.test(k)));
  delete clean.CUDA_VISIBLE_DEVICES;
  return spawnSync(process.execPath, [path.resolve(__dirname, '../../infra/cli/main.js'), ...args], {
    cwd: mkdtempSync(path.join(os.tmpdir(), 'repro-gpus-')),
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('repro worker --gpus: mistakes are usage errors before anything starts', () => {
  const few = cli(['worker', '--queue', 'gpu', '--gpus', '2'], { CUDA_VISIBLE_DEVICES: '0' });
  assert.equal(few.status, 2);
  assert.match(few.stderr, /^Error: worker\.gpus 2: CUDA_VISIBLE_DEVICES="0" shows 1 device\(s\); .*\n$/);
  const cpu = cli(['worker', '--queue', 'cpu', '--gpus', '2']);
  assert.equal(cpu.status, 2);
  assert.equal(cpu.stderr, 'Error: --gpus 2 starts gpu queue workers: add --queue gpu, or set --gpus 0\n');
  assert.equal(cli(['worker', '--gpus', '1.5']).status, 2);
});

test('repro worker --gpus 2: the real children take their command lines, one device each, and restart', () => {
  // Temporal at a refused port: each child starts, fails to connect in one line, and is restarted.
  const r = cli(['worker', '--queue', 'gpu', '--gpus', '2', '--conf', 'temporal.address=127.0.0.1:1'], {
    CUDA_VISIBLE_DEVICES: 'MIG-a,MIG-b,MIG-c',
  });
  assert.equal(r.status, 1, r.stderr);
  const events = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event: string; devices?: string[]; CUDA_VISIBLE_DEVICES?: string });
  assert.deepEqual(events[0]!.devices, ['MIG-a', 'MIG-b']);
  const exits = events.filter((e) => e.event === 'child-worker-exited').map((e) => e.CUDA_VISIBLE_DEVICES);
  assert.ok(exits.includes('MIG-a') && exits.includes('MIG-b') && !exits.includes('MIG-c'), exits.join());
  assert.match(r.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/, 'the child got its --conf, and its error');
  assert.match(r.stderr, /Error: child worker \d CUDA_VISIBLE_DEVICES=MIG-[ab] exited 4 times \(last: code 1\)/);
});
