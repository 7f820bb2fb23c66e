/**
 * The images, built here (infra/image/build-local.sh: the bases the Containerfiles name are on
 * registries this machine cannot reach, so they are stood in: node:24-bookworm-slim by a Debian
 * bookworm from debootstrap with Node.js's official build from npm's registry, pytorch/pytorch
 * (CUDA) by a Debian bookworm with Debian's python3-torch and its headers; then the Containerfile
 * by buildah), and smoke tested: each image's entrypoint, as uid 10001, runs a worker on the torch
 * backend configured by a mounted JSON file (its task queues) and REPRO_* variables (the servers),
 * and that worker completes a run started from the host. The GPU image's worker runs here on the
 * CPU: its torch addon, built against its base's python3 torch as on the CUDA base, is loaded from
 * that torch's libraries.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Client, Connection } from '@temporalio/client';
import { connectTemporal, makeObjectStore } from '../infra/clients';
import { awaitResult, startRun } from '../infra/cli/runs';
import { loadConfig } from '../infra/load-config';
import { planRun } from '../src/experiments/registry';
import { runIdOfWorkflow } from '../src/runs/ids';
import { uniqueQueues } from './helpers';

const ROOT = path.join(__dirname, '..', '..');
const missing = ['debootstrap', 'buildah', 'podman'].filter(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
);
// Opt-in (REPRO_TEST_IMAGE=1): the builds download Debian's packages for both stand-in bases and
// both images and take minutes; `npm test` runs without them, and the README gives the command.
const why =
  process.env.REPRO_TEST_IMAGE !== '1'
    ? 'opt-in: set REPRO_TEST_IMAGE=1 to build and smoke-test the images'
    : process.getuid?.() !== 0
      ? 'building an image needs root here (debootstrap, buildah chroot isolation)'
      : missing.length
        ? `${missing.join(', ')} not installed (apt-get install debootstrap buildah podman)`
        : undefined;
if (why) process.stdout.write(`# image: skipped: ${why}\n`);

let temporal: { client: Client; connection: Connection };
let dir: string;
const queues = uniqueQueues();
const config = loadConfig({ conf: Object.entries(queues).map(([k, v]) => `${k}=${v}`) }, process.env);

/** Runs a command to its end without blocking the event loop; rejects with its output's tail. */
function exec(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} exited ${String(code)}: ${out.trim().split('\n').slice(-5).join(' | ')}`,
          ),
        );
    });
  });
}

before(async () => {
  if (why) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'repro-image-'));
  temporal = await connectTemporal(config);
});
after(async () => {
  if (why) return;
  await temporal?.connection.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One image's smoke test: how it is built, what its config must say, how it runs here. */
interface ImageCase {
  tag: string;
  /** The chart's values key for the image. */
  values: 'image' | 'gpuImage';
  buildArgs: string[];
  cmd: string[];
  /** Added to the image's command: the queues it serves here beyond its own. */
  extraArgs: string[];
  /** Added to the worker's environment. */
  env: Record<string, string>;
  /** How the torch addon's build-info.json names the libtorch it was built against. */
  libtorch: RegExp;
  /** The worker's backend package label (the libtorch it loaded and its device). */
  torchPackage: RegExp;
}

const CPU: ImageCase = {
  tag: 'localhost/repro:test',
  values: 'image',
  buildArgs: [],
  cmd: ['worker'],
  extraArgs: [],
  env: {},
  libtorch: /^Debian libtorch-dev$/,
  torchPackage: /^libtorch \S+ cpu /,
};
// The GPU image's worker serves the gpu queue; fig7's units are cpu-queue work, so here it serves
// both, and on the CPU (no GPU here): REPRO_TORCH_DEVICE=cuda, its default, would refuse to start.
const GPU: ImageCase = {
  tag: 'localhost/repro-gpu:test',
  values: 'gpuImage',
  buildArgs: ['--gpu'],
  cmd: ['worker', '--queue', 'gpu'],
  extraArgs: ['--queue', 'cpu'],
  env: { REPRO_TORCH_DEVICE: 'cpu' },
  libtorch: /^python3 torch at \//,
  torchPackage: /^libtorch \S+ cpu /,
};

test(
  'the CPU image builds, and its entrypoint runs a torch worker, configured by a mounted file and env, ' +
    'that completes a run',
  { skip: why },
  () => smokeTest(CPU),
);

test(
  'the GPU image builds on a stand-in for its PyTorch base, and its entrypoint runs a worker on the torch ' +
    "backend built against that base's python3 torch, which completes a run (on the CPU)",
  { skip: why },
  () => smokeTest(GPU),
);

async function smokeTest(image: ImageCase): Promise<void> {
  const printed = await exec('bash', ['infra/image/build-local.sh', ...image.buildArgs, image.tag], 40 * 60_000);
  const inspect = JSON.parse(await exec('buildah', ['inspect', '--type', 'image', image.tag], 60_000)) as {
    FromImageDigest: string;
    OCIv1: { config: { Entrypoint: string[]; Cmd: string[]; User: string } };
  };
  // The build prints the image's digest as the chart's values (image, or gpuImage), ready to paste.
  const [repository, tag] = image.tag.split(/:(?=[^:/]+$)/);
  assert.ok(
    printed.endsWith(
      `${image.values}:\n  repository: ${repository}\n  tag: "${tag}"\n  digest: "${inspect.FromImageDigest}"`,
    ),
    `build-local.sh's output ends with the values block: ${printed.slice(-300)}`,
  );
  assert.match(inspect.FromImageDigest, /^sha256:[0-9a-f]{64}$/);
  const { Entrypoint: entrypoint, Cmd: cmd, User: user } = inspect.OCIv1.config;
  assert.deepEqual(cmd, image.cmd);
  assert.equal(user, '10001');
  // The chart's layers: a mounted JSON file (here the task queues) and REPRO_* variables (the servers).
  // World-readable, as a Kubernetes ConfigMap volume is: the image runs as uid 10001, not root.
  chmodSync(dir, 0o755);
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ taskQueues: { cpu: queues['taskQueues.cpu'], gpu: queues['taskQueues.gpu'] } }),
    { mode: 0o644 },
  );
  const container = await exec('buildah', ['from', '--quiet', image.tag], 60_000);
  const inside = (...args: string[]) =>
    exec('buildah', ['run', '--isolation', 'chroot', '--user', user, container, '--', ...args], 60_000);
  const env = [
    ...['REPRO_TEMPORAL_ADDRESS', 'REPRO_S3_ENDPOINT', 'REPRO_S3_BUCKET'].map((k) => `${k}=${process.env[k]!}`),
    ...Object.entries(image.env).map(([k, v]) => `${k}=${v}`),
  ].flatMap((e) => ['--env', e]);
  let worker: ReturnType<typeof spawn> | undefined;
  try {
    assert.match(await inside('node', '--version'), /^v24\./, 'the image runs Node.js 24');
    const built = JSON.parse(await inside('cat', '/app/.tools/torch/build-info.json')) as { libtorch: string };
    assert.match(built.libtorch, image.libtorch, 'the torch addon was built against the libtorch the image names');
    worker = spawn(
      'buildah',
      [
        'run',
        '--isolation',
        'chroot',
        '--user',
        user,
        '--volume',
        `${dir}:/etc/repro:ro`,
        '--env',
        'REPRO_CONFIG=/etc/repro/config.json',
        ...env,
        container,
        '--',
        ...entrypoint,
        ...cmd,
        ...image.extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const events: Array<Record<string, unknown>> = [];
    let stderr = '';
    worker.stdout!.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n'))
        if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, unknown>);
    });
    worker.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const ready = await waitFor(
      () => events.find((e) => e.event === 'worker-ready'),
      120_000,
      () => stderr,
    );
    const backend = events.find((e) => e.event === 'backend');
    assert.equal(backend?.backend, 'torch', "the image's worker runs the torch backend");
    assert.match(String(backend?.package), image.torchPackage, "on the image's libtorch");
    assert.ok(
      (ready.queues as string[]).includes(queues['taskQueues.cpu']!),
      'its task queues came from the mounted file',
    );
    const plan = planRun('fig7', 'default', ['steps=400000', 'checkpointEvery=100000']);
    const handle = await startRun(
      temporal.client,
      config,
      plan.experiment,
      'default',
      plan.params,
      1,
      `image-${randomUUID().slice(0, 8)}`,
    );
    const result = await awaitResult(handle, makeObjectStore(config));
    assert.ok(result.summary, 'the run finished with a summary');
    const runId = runIdOfWorkflow(handle.workflowId);
    assert.ok(
      events.some((e) => e.runId === runId),
      "the image's worker ran the run's activities",
    );
  } finally {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      worker.kill('SIGTERM');
      await new Promise((r) => worker!.on('close', r));
    }
    await exec('buildah', ['rm', container], 60_000).catch(() => '');
  }
}

async function waitFor<T>(find: () => T | undefined, timeoutMs: number, log: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out; worker stderr: ${log().slice(-500)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
