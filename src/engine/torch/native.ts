/**
 * The native program path of the torch backend: a model's network, recorded once by
 * src/models/program.ts, runs as one libtorch call per training step (or per K steps), loss,
 * gradient or Hessian-vector product, with libtorch's operators and C++ autograd
 * (src/engine/torch/program.cc) instead of hundreds of tfjs kernels. Parameters stay one flat
 * tensor of the torch backend, so everything else (checkpoints, estimators, projections) sees
 * tfjs tensors as before. Switched by `torch.native` (native-mode.ts); a model or option the
 * program cannot express runs on tfjs kernels with a logged reason (`auto`), or is an error
 * (`on`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../data/dataset';
import type { LossName } from '../../losses/losses';
import type { DenseKernels } from '../../linalg/dense-kernels';
import type { ForwardOptions, Model } from '../../models/model';
import { recordProgram } from '../../models/program';
import type { NativeBatch, TorchAddon, TorchBackend } from './backend';
import { nativeMode } from './native-mode';

export const LOSS_CODES: Record<LossName, number> = { lsce: 0, mse: 1 };

/** One chunk of an objective: inputs [n, ...inputShape] and int32 labels [n]. */
export interface NativeChunk {
  x: tf.Tensor;
  y: tf.Tensor;
}

const reasons = new Map<string, number>();
let listener = (message: string): void => console.warn(message);

/** How often each model fell back to tfjs kernels in this process, by `<model>: <reason>`. */
export function nativeFallbacks(): Record<string, number> {
  return Object.fromEntries(reasons);
}

/** Where fallback reasons go (once per model and reason; default console.warn). */
export function onNativeFallback(f: (message: string) => void): void {
  listener = f;
}

/** A tensor argument: a tfjs tensor, or an addon handle. */
type Arg = tf.Tensor | number;

/** The addon handle of an argument (a tensor made under another backend moves to torch first). */
function handleOf(backend: TorchBackend, t: Arg): number {
  return typeof t === 'number' ? t : backend.handle(t.dataId);
}

/** A compiled program of one model (or its smooth twin). */
export class NativeProgram {
  constructor(
    readonly model: Model,
    readonly id: number,
    readonly backend: TorchBackend,
  ) {}

  get addon(): TorchAddon {
    return this.backend.addon;
  }

  private h(t: Arg): number {
    return handleOf(this.backend, t);
  }

  private batches(chunks: NativeChunk[], weights: number[]): NativeBatch[] {
    return chunks.map((c, i) => [this.h(c.x), this.h(c.y), weights[i]!]);
  }

  /** Each chunk's mean loss at `theta` (float32 values). */
  losses(theta: Arg, chunks: NativeChunk[], loss: LossName, smoothing: number): Float32Array {
    const ones = chunks.map(() => 1);
    const out = this.addon.programLosses(
      this.id,
      this.h(theta),
      this.batches(chunks, ones),
      LOSS_CODES[loss],
      smoothing,
    );
    try {
      return this.addon.download(out) as Float32Array;
    } finally {
      this.addon.free(out);
    }
  }

  /** Σ weights[i]·∇L_i(theta), and the chunks' losses (a tensor [chunks], unread). */
  gradient(
    theta: Arg,
    chunks: NativeChunk[],
    weights: number[],
    loss: LossName,
    smoothing: number,
  ): { grad: tf.Tensor1D; losses: tf.Tensor1D } {
    const batches = this.batches(chunks, weights);
    const [l, g] = this.addon.programGradient(this.id, this.h(theta), batches, LOSS_CODES[loss], smoothing);
    return {
      grad: this.backend.wrap(g, [this.model.paramCount]) as tf.Tensor1D,
      losses: this.backend.wrap(l, [chunks.length]) as tf.Tensor1D,
    };
  }

  /**
   * Σ weights[i]·H_i(theta)·v: by double backward through libtorch's autograd, or by the
   * R-operator for MLPs (dense.cc).
   */
  hvp(theta: Arg, v: Arg, chunks: NativeChunk[], weights: number[], loss: LossName, smoothing: number): tf.Tensor1D {
    const batches = this.batches(chunks, weights);
    const out = this.addon.programHvp(this.id, this.h(theta), this.h(v), batches, LOSS_CODES[loss], smoothing);
    return this.backend.wrap(out, [this.model.paramCount]) as tf.Tensor1D;
  }

  /**
   * Every eigenvalue (ascending) of Σ weights[i]·H_i(theta), with its trace and the loss, all in
   * float64: the parameters and data converted to double in the addon, the Hessian formed
   * column by column and diagonalized by LAPACK (program.cc `programSpectrum`).
   */
  spectrum(
    theta: Arg,
    chunks: NativeChunk[],
    weights: number[],
    loss: LossName,
    smoothing: number,
  ): Promise<{ eigenvalues: Float64Array; trace: number; loss: number }> {
    return this.addon.programSpectrum(
      this.id,
      this.h(theta),
      this.batches(chunks, weights),
      LOSS_CODES[loss],
      smoothing,
    );
  }
}

const compiled = new WeakMap<Model, Map<boolean, { id: number } | { reason: string }>>();
const freeProgram = new FinalizationRegistry<{ addon: TorchAddon; id: number }>(({ addon, id }) =>
  addon.programFree(id),
);

function compile(model: Model, smooth: boolean, backend: TorchBackend): { id: number } | { reason: string } {
  let byKind = compiled.get(model);
  if (!byKind) compiled.set(model, (byKind = new Map()));
  let c = byKind.get(smooth);
  if (!c) {
    if (typeof backend.addon.programCompile !== 'function') {
      c = { reason: 'the torch addon predates native programs (rebuild it: bash infra/scripts/build-torch.sh)' };
    } else {
      try {
        const id = backend.addon.programCompile(recordProgram(model, smooth));
        freeProgram.register(model, { addon: backend.addon, id });
        c = { id };
      } catch (err) {
        c = { reason: `the program does not compile: ${(err as Error).message.split('\n')[0]}` };
      }
    }
    byKind.set(smooth, c);
  }
  return c;
}

/** Why `forward` cannot run natively, if it cannot. */
function unsupported(forward: ForwardOptions | undefined): string | undefined {
  const bn = forward?.batchNorm;
  if (bn && bn.mode === 'fixed') return 'batch norm with fixed statistics runs on tfjs kernels';
  if (bn && bn.mode === 'batch' && bn.record) return 'recording batch-norm statistics runs on tfjs kernels';
  return undefined;
}

/**
 * Refuses the native path for `model` with `reason`: an error when it was asked for by name
 * (`on`), else a fallback to tfjs kernels, logged once per model and reason and counted.
 */
export function refuseNative(model: Model, reason: string): null {
  const message = `torch native programs: ${model.name}: ${reason}`;
  if (nativeMode() === 'on') throw new Error(`${message} (torch.native is 'on'; 'auto' falls back to tfjs kernels)`);
  const key = `${model.name}: ${reason}`;
  const seen = reasons.get(key) ?? 0;
  reasons.set(key, seen + 1);
  if (seen === 0) listener(`${message}; running on tfjs kernels instead`);
  return null;
}

/**
 * The native program for `model` with `forward`, or null where the tfjs kernels run: the native
 * path is off, the current tfjs backend is not torch, or (logged, or an error under `on`) the
 * model or options cannot run natively.
 */
export function nativeProgram(model: Model, forward?: ForwardOptions): NativeProgram | null {
  if (nativeMode() === 'off' || tf.getBackend() !== 'torch') return null;
  const backend = tf.engine().backend as unknown as TorchBackend;
  const reason = unsupported(forward);
  if (reason) return refuseNative(model, reason);
  const c = compile(model, forward?.smoothTwin ?? false, backend);
  if ('reason' in c) return refuseNative(model, c.reason);
  return new NativeProgram(model, c.id, backend);
}

/**
 * The program for `model` wherever the torch backend runs, whatever `torch.native` says: for what
 * only the addon computes (the float64 spectrum), not a choice between two paths to one answer.
 * Null off the torch backend, with an addon that predates programSpectrum, or for a model or
 * options the program cannot express.
 */
export function float64Program(model: Model, forward?: ForwardOptions): NativeProgram | null {
  if (tf.getBackend() !== 'torch') return null;
  const backend = tf.engine().backend as unknown as TorchBackend;
  if (typeof backend.addon.programSpectrum !== 'function' || unsupported(forward)) return null;
  const c = compile(model, forward?.smoothTwin ?? false, backend);
  return 'reason' in c ? null : new NativeProgram(model, c.id, backend);
}

/**
 * The estimators' float64 host kernels on LAPACK/BLAS (addon.cc `gram64`, `qr64`) on the torch
 * backend; null elsewhere or with an addon that predates them (the JavaScript ones serve).
 */
export function hostKernels(): DenseKernels | null {
  if (tf.getBackend() !== 'torch') return null;
  const addon = (tf.engine().backend as unknown as TorchBackend).addon;
  const { gram64, qr64 } = addon;
  if (!gram64 || !qr64) return null;
  return {
    gram: (x, p, y, q) => gram64.call(addon, x, p, y, q),
    qr: (y, k) => {
      const [q, r] = qr64.call(addon, y, k);
      return { q, r };
    },
  };
}

/** A data set on the device: x [n, ...shape] float32 and y [n] int32 addon handles. */
export interface DeviceDataset {
  x: number;
  y: number;
}

/**
 * The last data set trained on stays on the device (a CIFAR training set is 600 MB in float32):
 * training resumed on it uploads nothing, and a different one replaces it, so at most one is held.
 */
let resident: { data: Dataset; handles: DeviceDataset; addon: TorchAddon } | undefined;

export function deviceDataset(program: NativeProgram, d: Dataset): DeviceDataset {
  if (resident?.data === d && resident.addon === program.addon) return resident.handles;
  releaseDeviceDataset();
  const n = d.y.length;
  const handles = { x: program.addon.upload(d.x, 0, [n, ...d.shape]), y: program.addon.upload(d.y, 1, [n]) };
  resident = { data: d, handles, addon: program.addon };
  return handles;
}

/** Frees the resident data set (tests counting the addon's tensors; a worker done with a data set). */
export function releaseDeviceDataset(): void {
  if (!resident) return;
  resident.addon.free(resident.handles.x);
  resident.addon.free(resident.handles.y);
  resident = undefined;
}
