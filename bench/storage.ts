/** Storage and toy-model benchmarks: fig7 numerics, checkpoint I/O against a plain SDK transfer. */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { randomUUID } from 'crypto';
import { makeS3Client, makeObjectStore } from '../infra/clients';
import { CheckpointStore } from '../src/checkpoint/checkpoint-store';
import { encodeSafetensors, type Tensor } from '../src/checkpoint/safetensors';
import { fig7Params } from '../src/experiments/fig7/definition';
import { advance, initialState } from '../src/experiments/fig7/toy';
import { planRun } from '../src/experiments/registry';
import { CounterRng } from '../src/rng/philox';
import type { Line } from './numerics';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** fig7 numerics: steps/s of both trajectories, and the Philox draw rate they rest on. */
export async function benchToy(line: Line): Promise<void> {
  const p = fig7Params.check('fig7', planRun('fig7', 'default', ['steps=5000000']).params);
  for (const variant of ['gd', 'noisy'] as const) {
    const secs = median(
      await Promise.all(
        [0, 1, 2].map(() =>
          time(() => {
            const s = initialState(p);
            advance(s, p, variant, 1, p.steps);
          }),
        ),
      ),
    );
    line(`fig7 ${variant} steps/s (float64 JS)`, `${(p.steps / secs / 1e6).toFixed(1)} M`);
  }
  const rng = new CounterRng(1, 'bench');
  const n = 5_000_000;
  const secs = await time(() => {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += rng.normal(i);
    return acc;
  });
  line('Philox4x32-10 normals/s', `${(n / secs / 1e6).toFixed(1)} M`);
}

/**
 * Checkpoint save/restore of a PreAct-ResNet18-sized state with momentum (2 × 11.2M float32,
 * ~90 MB) through CheckpointStore (encode, hash, upload, manifest / list, download, verify,
 * decode), against a plain @aws-sdk upload/download of the same bytes. Target ratio >= 0.8.
 */
export async function benchCheckpoints(config: Parameters<typeof makeObjectStore>[0], line: Line): Promise<void> {
  const count = 11_200_000;
  const weights = new Float32Array(count),
    momentum = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    weights[i] = Math.sin(i);
    momentum[i] = Math.cos(i) * 1e-3;
  }
  const tensors: Record<string, Tensor> = {
    weights: { dtype: 'F32', shape: [count], data: weights },
    momentum: { dtype: 'F32', shape: [count], data: momentum },
  };
  const bytes = encodeSafetensors(tensors);
  const s3 = makeS3Client(config);
  const checkpoints = new CheckpointStore(makeObjectStore(config));
  const root = `bench/${randomUUID()}/`;
  const save: number[] = [],
    plainUp: number[] = [],
    restore: number[] = [],
    plainDown: number[] = [];
  for (let rep = 0; rep < 9; rep++) {
    const plainKey = `${root}plain-${rep}`;
    plainUp.push(
      await time(() =>
        new Upload({
          client: s3,
          params: { Bucket: config.s3.bucket, Key: plainKey, Body: bytes },
          queueSize: 4,
          partSize: 8 * 1024 * 1024,
        }).done(),
      ),
    );
    save.push(await time(() => checkpoints.commit(`${root}ck/`, rep, tensors, {})));
    plainDown.push(
      await time(async () =>
        (await s3.send(new GetObjectCommand({ Bucket: config.s3.bucket, Key: plainKey }))).Body!.transformToByteArray(),
      ),
    );
    restore.push(await time(() => checkpoints.loadLatest(`${root}ck/`)));
  }
  const mb = bytes.byteLength / 2 ** 20;
  line(
    `checkpoint save ${mb.toFixed(0)} MiB: MB/s ours vs plain SDK`,
    `${(mb / median(save)).toFixed(0)} vs ${(mb / median(plainUp)).toFixed(0)}  ` +
      `ratio ${(median(plainUp) / median(save)).toFixed(2)} (target >= 0.8)`,
  );
  line(
    `checkpoint restore ${mb.toFixed(0)} MiB: MB/s ours vs plain SDK`,
    `${(mb / median(restore)).toFixed(0)} vs ${(mb / median(plainDown)).toFixed(0)}  ` +
      `ratio ${(median(plainDown) / median(restore)).toFixed(2)} (target >= 0.8)`,
  );
  s3.destroy();
}
