/* eslint-disable @typescript-eslint/no-require-imports -- the addon and the cpu backend load lazily */
/**
 * `torch`: a TensorFlow.js backend over libtorch's ATen, in the way tfjs-node wraps TensorFlow's
 * eager ops. Tensors live in the native addon (addon.cc), keyed by integer handles; this side
 * keeps tfjs's bookkeeping (dataIds, reference counts) and registers one kernel per tfjs kernel
 * name. Kernels that the project's models, losses, optimizers, HVPs and landscape tools call run
 * natively (see NATIVE below; the contract suite checks each against the cpu backend). Every
 * other tfjs kernel runs through the cpu backend's implementation on copies (`fallbacks()`
 * counts them; REPRO_TORCH_FALLBACK=error makes them throw, which the tests use to prove the
 * models' paths are native).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { ProgramSpec } from '../../models/program';
import { DEFAULT_NATIVE_MODE, setNativeMode, type NativeMode } from './native-mode';

type DataId = object;
type DType = 'float32' | 'int32' | 'bool';
type Values = Float32Array | Int32Array | Uint8Array;

/** The addon's functions (addon.cc). */
export interface TorchAddon {
  upload(values: Values, dtype: number, shape: number[]): number;
  download(handle: number): Values;
  free(handle: number): void;
  run(kernel: string, handles: number[], shapes: number[][], nums: Float64Array): Array<[number, number[], number]>;
  kernels(): string[];
  stats(): { tensors: number; bytes: number };
  configure(options: Partial<Omit<TorchOptions, 'native'>> & { device?: string }): TorchInfo;
  synchronize(): void;
  /** Host float64 X·Yᵀ and thin QR (addon.cc; src/linalg/dense-kernels.ts); absent in older builds. */
  gram64?(x: Float64Array, p: number, y: Float64Array, q: number): Float64Array;
  qr64?(y: Float64Array, k: number): [Float64Array, Float64Array];
  /** Native programs (program.cc; src/engine/torch/native.ts is their TypeScript side). */
  programCompile(spec: ProgramSpec): number;
  programFree(id: number): void;
  programLosses(id: number, theta: number, batches: NativeBatch[], loss: number, smoothing: number): number;
  programGradient(id: number, theta: number, batches: NativeBatch[], loss: number, smoothing: number): [number, number];
  programHvp(id: number, theta: number, v: number, batches: NativeBatch[], loss: number, smoothing: number): number;
  /** The full Hessian's eigenvalues (ascending), trace and loss, all in float64 (small models), off the event loop. */
  programSpectrum(
    id: number,
    theta: number,
    batches: NativeBatch[],
    loss: number,
    smoothing: number,
  ): Promise<{ eigenvalues: Float64Array; trace: number; loss: number }>;
  programTrain(
    id: number,
    theta: number,
    velocity: number,
    hasVelocity: boolean,
    dataX: number,
    dataY: number,
    order: number,
    start: number,
    batch: number,
    steps: number,
    augment: number,
    padding: number,
    sgd: Float64Array,
    loss: number,
    smoothing: number,
  ): number;
  sgdUpdate(theta: number, grad: number, velocity: number, hasVelocity: boolean, sgd: Float64Array): void;
  /** src/data/preprocess.ts's permutation(n, seed, stream, step) as an int32 tensor, from the key and stream id. */
  permutation(n: number, key0: number, key1: number, stream: number, step: number): number;
  /** The native trainer's augmentation of images x [n, h, w, c] by augmentParams draws [n, 3]. */
  augmentImages(x: number, params: number, padding: number): number;
}

/** One chunk of data for a native program: x and y handles and the chunk's weight in the mean. */
export type NativeBatch = [x: number, y: number, weight: number];

/** Speed and reproducibility switches (config keys `torch.*`). */
export interface TorchOptions {
  /** `auto`: CUDA when this libtorch has it, else the CPU. */
  device: 'auto' | 'cpu' | 'cuda';
  /** Intra-op threads; 0: one per core. */
  threads: number;
  /** ATen's deterministic algorithms (and deterministic cuDNN). */
  deterministic: boolean;
  /** cuDNN autotuning (faster convolutions, run-to-run variation on the GPU). */
  cudnnBenchmark: boolean;
  /** TF32 matmuls and convolutions on Ampere and later (10-bit mantissa inputs). */
  tf32: boolean;
  /**
   * Native programs (src/engine/torch/native.ts): training steps, losses, gradients and HVPs as
   * one libtorch call each instead of tfjs kernels. `auto` (the default): native where the model
   * and options compile, else tfjs kernels with a logged reason; `on`: native or an error; `off`:
   * tfjs kernels only. REPRO_TORCH_NATIVE overrides it (tests).
   */
  native?: NativeMode;
}

export interface TorchInfo {
  device: string;
  cuda: boolean;
  threads: number;
  deterministic: boolean;
  cudnnBenchmark: boolean;
  tf32: boolean;
  version: string;
  /** The addon's build identity: the SHA-256 prefix of its sources (infra/scripts/build-torch.sh). */
  build: string;
}

export const DEFAULT_TORCH_OPTIONS: TorchOptions = {
  device: 'auto',
  threads: 0,
  deterministic: true,
  cudnnBenchmark: false,
  tf32: false,
  native: DEFAULT_NATIVE_MODE,
};

const DTYPES: DType[] = ['float32', 'int32', 'bool'];
const CODE: Record<DType, number> = { float32: 0, int32: 1, bool: 2 };

/** Where the addon is built (infra/scripts/build-torch.sh), or REPRO_TORCH_ADDON. */
export function addonPath(): string {
  if (process.env.REPRO_TORCH_ADDON) return path.resolve(process.env.REPRO_TORCH_ADDON);
  // dist/src/engine/torch -> repository root
  const root = path.resolve(__dirname, '..', '..', '..', '..');
  return path.join(
    process.env.REPRO_TOOLS_DIR ? path.resolve(process.env.REPRO_TOOLS_DIR) : path.join(root, '.tools'),
    'torch',
    'repro_torch.node',
  );
}

let loaded: { addon: TorchAddon } | { reason: string } | undefined;

/** The addon, or why it is absent (a one-line reason with the fix). */
/**
 * oneDNN (libtorch's CPU convolutions) limited to AVX kernels on AMD processors, unless the
 * environment already sets its ISA. Measured on the 2-core AMD EPYC (Zen 3, KVM) development
 * machine on 2026-12-07 with Debian's oneDNN 2.6.3: its AVX2 kernels gave weight gradients of
 * PreAct-ResNet18's convolutions with 43 of 44,446 entries wrong (relative error 0.13-0.34 over
 * the gradient, different from one call to the next, even on one thread) or never returned; with
 * AVX (or SSE4.1) kernels, the tfjs kernels' values to 1e-6 on every call. oneDNN reads the
 * variable when it first runs, so it is set before the addon loads.
 */
export function oneDnnIsaGuard(env: NodeJS.ProcessEnv, cpuModel: string): void {
  if (env.ONEDNN_MAX_CPU_ISA !== undefined || env.DNNL_MAX_CPU_ISA !== undefined) return;
  if (/\bAMD\b/i.test(cpuModel)) env.ONEDNN_MAX_CPU_ISA = 'AVX';
}

export function loadTorchAddon(): { addon: TorchAddon } | { reason: string } {
  if (loaded) return loaded;
  oneDnnIsaGuard(process.env, os.cpus()[0]?.model ?? '');
  const file = addonPath();
  if (!fs.existsSync(file)) {
    loaded = {
      reason:
        `torch addon not built at ${file}: install libtorch (apt-get install libtorch-dev, or pip install torch)` +
        ' and run bash infra/scripts/build-torch.sh',
    };
  } else {
    try {
      loaded = { addon: require(file) as TorchAddon };
    } catch (err) {
      loaded = { reason: `torch addon at ${file} failed to load: ${(err as Error).message.split('\n')[0]}` };
    }
  }
  return loaded;
}

interface Entry {
  handle?: number;
  strings?: Uint8Array[];
  dtype: tf.DataType;
  refCount: number;
}

function typed(values: unknown, dtype: DType, size: number): Values {
  if (values == null)
    return dtype === 'float32'
      ? new Float32Array(size)
      : dtype === 'int32'
        ? new Int32Array(size)
        : new Uint8Array(size);
  const v = values as ArrayLike<number>;
  if (dtype === 'float32') return v instanceof Float32Array ? v : Float32Array.from(v);
  if (dtype === 'int32') return v instanceof Int32Array ? v : Int32Array.from(v);
  return v instanceof Uint8Array ? v : Uint8Array.from(v, (x) => (x ? 1 : 0));
}

export class TorchBackend extends tf.KernelBackend {
  private readonly data = new WeakMap<DataId, Entry>();
  private count = 0;
  private nextId = 0;

  constructor(
    readonly addon: TorchAddon,
    readonly info: TorchInfo,
  ) {
    super();
  }

  entry(dataId: DataId): Entry {
    let e = this.data.get(dataId);
    // A tensor made while another backend was current: tfjs moves its data on first use (as its
    // DataStorage does for the cpu backend).
    if (!e && tf.engine().state.tensorInfo.has(dataId)) {
      tf.engine().moveData(this, dataId);
      e = this.data.get(dataId);
    }
    if (!e) throw new Error('torch backend: tensor data not found (disposed?)');
    return e;
  }

  /** The addon handle behind a tfjs dataId. */
  handle(dataId: DataId): number {
    const h = this.entry(dataId).handle;
    if (h === undefined) throw new Error('torch backend: string tensors have no native data');
    return h;
  }

  /** A new dataId owning an addon handle. */
  adopt(handle: number, dtype: tf.DataType): DataId {
    const dataId = { id: this.nextId++ };
    this.data.set(dataId, { handle, dtype, refCount: 1 });
    this.count++;
    return dataId;
  }

  /** A tfjs tensor owning an addon handle (disposing it frees the handle). */
  wrap(handle: number, shape: number[], dtype: tf.DataType = 'float32'): tf.Tensor {
    return tf.engine().makeTensorFromTensorInfo({ dataId: this.adopt(handle, dtype), shape, dtype }, this);
  }

  override write(values: tf.backend_util.BackendValues | null, shape: number[], dtype: tf.DataType): DataId {
    const dataId = { id: this.nextId++ };
    this.move(dataId, values, shape, dtype, 1);
    return dataId;
  }

  override move(
    dataId: DataId,
    values: tf.backend_util.BackendValues | null,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void {
    if (dtype === 'string') {
      this.data.set(dataId, { strings: (values ?? []) as Uint8Array[], dtype, refCount });
    } else if (dtype === 'complex64') {
      throw new Error('torch backend: complex64 tensors are not supported (use the cpu backend for them)');
    } else {
      const size = shape.reduce((a, b) => a * b, 1);
      this.data.set(dataId, {
        handle: this.addon.upload(typed(values, dtype, size), CODE[dtype], shape),
        dtype,
        refCount,
      });
    }
    this.count++;
  }

  makeTensorInfo(
    shape: number[],
    dtype: tf.DataType,
    values?: tf.backend_util.BackendValues | string[],
  ): tf.TensorInfo {
    const v =
      dtype === 'string' && values && values.length > 0 && typeof values[0] === 'string'
        ? (values as string[]).map((s) => tf.util.encodeString(s))
        : (values as tf.backend_util.BackendValues | undefined);
    return { dataId: this.write(v ?? null, shape, dtype), shape, dtype };
  }

  override refCount(dataId: DataId): number {
    return this.data.get(dataId)?.refCount ?? 0;
  }

  override incRef(dataId: DataId): void {
    this.entry(dataId).refCount++;
  }

  decRef(dataId: DataId): void {
    const e = this.data.get(dataId);
    if (e) e.refCount--;
  }

  override numDataIds(): number {
    return this.count;
  }

  override async read(dataId: DataId): Promise<tf.backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override readSync(dataId: DataId): tf.backend_util.BackendValues {
    const e = this.entry(dataId);
    return e.strings ?? this.addon.download(e.handle!);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const e = this.data.get(dataId);
    if (!e) return true;
    e.refCount--;
    if (!force && e.refCount > 0) return false;
    if (e.handle !== undefined) this.addon.free(e.handle);
    this.data.delete(dataId);
    this.count--;
    return true;
  }

  disposeIntermediateTensorInfo(info: tf.TensorInfo): void {
    this.disposeData(info.dataId);
  }

  override async time(f: () => void): Promise<tf.BackendTimingInfo> {
    const start = performance.now();
    f();
    this.addon.synchronize();
    return { kernelMs: performance.now() - start };
  }

  override timerAvailable(): boolean {
    return true;
  }

  override memory(): { unreliable: boolean; numBytesInTorch: number; numTensorsInTorch: number } {
    const s = this.addon.stats();
    return { unreliable: false, numBytesInTorch: s.bytes, numTensorsInTorch: s.tensors };
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override dispose(): void {
    // tensors are freed through disposeData; nothing else is held
  }
}

// ---------------------------------------------------------------------------------------------
// Kernels

type Inputs = tf.NamedTensorInfoMap;
type Attrs = Record<string, unknown>;
/** A native kernel's preparation: its inputs in the addon's order and its numeric attributes, or null to fall back. */
type Prepare = (inputs: Inputs, attrs: Attrs) => { inputs: tf.TensorInfo[]; nums: number[] } | null;

const fallbackCounts = new Map<string, number>();

/** How often each kernel ran through the cpu fallback in this process. */
export function fallbacks(): Record<string, number> {
  return Object.fromEntries(fallbackCounts);
}

let cpuBackend: MathBackendCPU | undefined;

function cpu(): MathBackendCPU {
  if (!cpuBackend) {
    const { MathBackendCPU: Cpu } =
      require('@tensorflow/tfjs-backend-cpu') as typeof import('@tensorflow/tfjs-backend-cpu');
    cpuBackend = new Cpu();
  }
  return cpuBackend;
}

/** Runs the cpu backend's kernel on copies of the inputs and moves its outputs to torch. */
function fallback(
  kernelName: string,
  inputs: Inputs,
  attrs: Attrs,
  backend: TorchBackend,
): tf.TensorInfo | tf.TensorInfo[] {
  const config = tf.getKernel(kernelName, 'cpu');
  if (!config)
    throw new Error(`torch backend: kernel ${kernelName} is implemented neither natively nor by the cpu backend`);
  if (process.env.REPRO_TORCH_FALLBACK === 'error')
    throw new Error(`torch backend: kernel ${kernelName} would run through the cpu fallback`);
  fallbackCounts.set(kernelName, (fallbackCounts.get(kernelName) ?? 0) + 1);
  const c = cpu();
  // Concat, Pack and AddN take an array of inputs, the others a map by name: keep the form.
  const copies = (Array.isArray(inputs) ? [] : {}) as tf.NamedTensorInfoMap;
  const made: tf.TensorInfo[] = [];
  for (const [name, t] of Object.entries(inputs)) {
    if (!t) continue;
    const info = { dataId: c.write(backend.readSync(t.dataId), t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
    (copies as Record<string, tf.TensorInfo>)[name] = info;
    made.push(info);
  }
  try {
    const out = config.kernelFunc({ inputs: copies, attrs: attrs as tf.NamedAttrMap, backend: c });
    const outs = Array.isArray(out) ? out : [out];
    const moved = outs.map((o) => {
      const info = { dataId: backend.write(c.readSync(o.dataId), o.shape, o.dtype), shape: o.shape, dtype: o.dtype };
      return info;
    });
    for (const o of outs) c.disposeData(o.dataId, true);
    return Array.isArray(out) ? moved : moved[0]!;
  } finally {
    for (const m of made) c.disposeData(m.dataId, true);
  }
}

const size = (t: tf.TensorInfo): number => t.shape.reduce((a, b) => a * b, 1);
const natural = (t: tf.TensorInfo): boolean => t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'bool';

function run(backend: TorchBackend, kernel: string, inputs: tf.TensorInfo[], nums: number[]): tf.TensorInfo[] {
  const out = backend.addon.run(
    kernel,
    inputs.map((t) => backend.handle(t.dataId)),
    inputs.map((t) => t.shape),
    Float64Array.from(nums),
  );
  return out.map(([h, shape, code]) => ({ dataId: backend.adopt(h, DTYPES[code]!), shape, dtype: DTYPES[code]! }));
}

function axesOf(axis: unknown, shape: number[]): number[] {
  return tf.util.parseAxisParam(axis as number | number[], shape);
}

function convNums(info: tf.backend_util.Conv2DInfo): number[] {
  const p = info.padInfo;
  return [
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    p.top,
    p.bottom,
    p.left,
    p.right,
  ];
}

const x1: Prepare = (i) => ({ inputs: [i.x!], nums: [] });
const ab: Prepare = (i) => ({ inputs: [i.a!, i.b!], nums: [] });
const reduce =
  (axisAttr: string): Prepare =>
  (i, a) => {
    const axes = axesOf(a[axisAttr], i.x!.shape);
    if (axes.length === 0) return null; // identity, with tfjs's dtype rules: left to the cpu kernel
    return { inputs: [i.x!], nums: [a.keepDims ? 1 : 0, ...axes] };
  };
const ACTIVATIONS: Record<string, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  elu: 3,
  leakyrelu: 4,
  sigmoid: 5,
  prelu: 6,
};

/** Kernels the addon runs, with how their tfjs inputs and attributes map onto it. */
const NATIVE: Record<string, Prepare> = {
  ...Object.fromEntries(
    [
      'Abs',
      'Neg',
      'Exp',
      'Log',
      'Log1p',
      'Expm1',
      'Sqrt',
      'Rsqrt',
      'Square',
      'Reciprocal',
      'Relu',
      'Relu6',
      'Elu',
      'Selu',
      'Sigmoid',
      'Tanh',
      'Softplus',
      'Sin',
      'Cos',
      'Erf',
      'Floor',
      'Ceil',
      'Round',
      'Sign',
      'IsNan',
      'IsInf',
      'LogicalNot',
      'ZerosLike',
      'OnesLike',
    ].map((k) => [k, x1]),
  ),
  ...Object.fromEntries(
    [
      'Add',
      'Sub',
      'Multiply',
      'RealDiv',
      'FloorDiv',
      'Mod',
      'Maximum',
      'Minimum',
      'Pow',
      'Atan2',
      'SquaredDifference',
      'Equal',
      'NotEqual',
      'Greater',
      'GreaterEqual',
      'Less',
      'LessEqual',
      'LogicalAnd',
      'LogicalOr',
    ].map((k) => [k, ab]),
  ),
  Step: (i, a) => ({ inputs: [i.x!], nums: [Number(a.alpha ?? 0)] }),
  LeakyRelu: (i, a) => ({ inputs: [i.x!], nums: [Number(a.alpha)] }),
  Prelu: (i) => ({ inputs: [i.x!, i.alpha!], nums: [] }),
  ClipByValue: (i, a) => ({ inputs: [i.x!], nums: [Number(a.clipValueMin), Number(a.clipValueMax)] }),
  Cast: (i, a) => ((a.dtype as string) in CODE ? { inputs: [i.x!], nums: [CODE[a.dtype as DType]] } : null),
  Select: (i) => ({ inputs: [i.condition!, i.t!, i.e!], nums: [] }),
  Sum: reduce('axis'),
  Mean: reduce('axis'),
  Max: reduce('reductionIndices'),
  Min: reduce('axis'),
  Prod: reduce('axis'),
  All: reduce('axis'),
  Any: reduce('axis'),
  ArgMax: (i, a) => ({ inputs: [i.x!], nums: [axesOf(a.axis, i.x!.shape)[0]!] }),
  ArgMin: (i, a) => ({ inputs: [i.x!], nums: [axesOf(a.axis, i.x!.shape)[0]!] }),
  Softmax: (i, a) => (a.dim === -1 || a.dim === i.logits!.shape.length - 1 ? { inputs: [i.logits!], nums: [] } : null),
  Transpose: (i, a) => ({ inputs: [i.x!], nums: a.perm as number[] }),
  Concat: (i, a) => {
    const ts = Object.values(i) as tf.TensorInfo[];
    return { inputs: ts, nums: [axesOf(a.axis, ts[0]!.shape)[0]!] };
  },
  Pack: (i, a) => {
    const ts = Object.values(i) as tf.TensorInfo[];
    const axis = a.axis as number;
    return { inputs: ts, nums: [axis < 0 ? axis + ts[0]!.shape.length + 1 : axis] };
  },
  Unpack: (i, a) => ({ inputs: [i.value!], nums: [axesOf(a.axis, i.value!.shape)[0]!] }),
  SplitV: (i, a) => {
    const axis = axesOf(a.axis, i.x!.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(i.x! as tf.Tensor, a.numOrSizeSplits as number | number[], axis);
    return { inputs: [i.x!], nums: [axis, ...sizes] };
  },
  Slice: (i, a) => {
    const [begin, sz] = tf.slice_util.parseSliceParams(i.x! as tf.Tensor, a.begin as number[], a.size as number[]);
    return { inputs: [i.x!], nums: [...begin!, ...sz!] };
  },
  Tile: (i, a) => ({ inputs: [i.x!], nums: a.reps as number[] }),
  Reverse: (i, a) => ({ inputs: [i.x!], nums: axesOf(a.dims, i.x!.shape) }),
  PadV2: (i, a) => ({
    inputs: [i.x!],
    nums: [Number(a.constantValue), ...(a.paddings as Array<[number, number]>).flat()],
  }),
  GatherV2: (i, a) =>
    Number(a.batchDims ?? 0) === 0 ? { inputs: [i.x!, i.indices!], nums: [axesOf(a.axis, i.x!.shape)[0]!] } : null,
  OneHot: (i, a) =>
    (a.dtype as string) in CODE
      ? { inputs: [i.indices!], nums: [Number(a.depth), Number(a.onValue), Number(a.offValue), CODE[a.dtype as DType]] }
      : null,
  // No inputs: the output's dtype and shape come from attributes (an empty one takes the cpu kernel).
  Fill: (_i, a) => {
    const dtype = (a.dtype as DType) ?? 'float32';
    const shape = a.shape as number[];
    if (!(dtype in CODE) || typeof a.value !== 'number' || shape.reduce((p, q) => p * q, 1) === 0) return null;
    return { inputs: [], nums: [CODE[dtype], a.value, ...shape] };
  },
  BatchMatMul: (i, a) => ({ inputs: [i.a!, i.b!], nums: [a.transposeA ? 1 : 0, a.transposeB ? 1 : 0] }),
  _FusedMatMul: (i, a) => {
    const act = ACTIVATIONS[(a.activation as string) ?? 'linear'];
    if (act === undefined) return null;
    const inputs = [i.a!, i.b!];
    if (i.bias) inputs.push(i.bias);
    if (act === 6) inputs.push(i.preluActivationWeights!);
    return {
      inputs,
      nums: [a.transposeA ? 1 : 0, a.transposeB ? 1 : 0, i.bias ? 1 : 0, act, Number(a.leakyreluAlpha ?? 0.2)],
    };
  },
  Conv2D: (i, a) => {
    if (a.dataFormat === 'NCHW') return null;
    const info = tf.backend_util.computeConv2DInfo(
      i.x!.shape as [number, number, number, number],
      i.filter!.shape as [number, number, number, number],
      a.strides as number,
      a.dilations as number,
      a.pad as 'same',
      a.dimRoundingMode as 'floor',
      false,
      'channelsLast',
    );
    return { inputs: [i.x!, i.filter!], nums: convNums(info) };
  },
  Conv2DBackpropInput: (i, a) => {
    if (a.dataFormat === 'NCHW') return null;
    const xShape = a.inputShape as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(
      xShape,
      i.filter!.shape as [number, number, number, number],
      a.strides as number,
      1,
      a.pad as 'same',
      a.dimRoundingMode as 'floor',
      false,
      'channelsLast',
    );
    return { inputs: [i.dy!, i.filter!], nums: [...convNums(info), ...xShape] };
  },
  Conv2DBackpropFilter: (i, a) => {
    if (a.dataFormat === 'NCHW') return null;
    const fShape = a.filterShape as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(
      i.x!.shape as [number, number, number, number],
      fShape,
      a.strides as number,
      1,
      a.pad as 'same',
      a.dimRoundingMode as 'floor',
      false,
      'channelsLast',
    );
    return { inputs: [i.x!, i.dy!], nums: [...convNums(info), ...fShape] };
  },
  FusedBatchNorm: (i, a) => {
    const inputs = [i.x!, i.mean!, i.variance!];
    if (i.offset) inputs.push(i.offset);
    if (i.scale) inputs.push(i.scale);
    return { inputs, nums: [Number(a.varianceEpsilon ?? 0.001), i.offset ? 1 : 0, i.scale ? 1 : 0] };
  },
};

/** Kernels that only relabel a dataId (tfjs shares data between a tensor and its reshapes). */
function relabel(backend: TorchBackend, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

const VIEWS: Record<string, (inputs: Inputs, attrs: Attrs, backend: TorchBackend) => tf.TensorInfo> = {
  Identity: (i, _a, b) => relabel(b, i.x!, i.x!.shape),
  Reshape: (i, a, b) => {
    const shape = tf.util.inferFromImplicitShape(a.shape as number[], size(i.x!));
    if (shape.reduce((p, q) => p * q, 1) !== size(i.x!))
      throw new Error(`cannot reshape [${i.x!.shape}] into [${a.shape as number[]}]`);
    return relabel(b, i.x!, shape);
  },
  ExpandDims: (i, a, b) => {
    const shape = [...i.input!.shape];
    let dim = a.dim as number;
    if (dim < 0) dim += shape.length + 1;
    shape.splice(dim, 0, 1);
    return relabel(b, i.input!, shape);
  },
  Squeeze: (i, a, b) => relabel(b, i.x!, tf.util.squeezeShape(i.x!.shape, a.axis as number[]).newShape),
};

let registered = false;

/** Registers the `torch` kernels: native where NATIVE or VIEWS has one, the cpu fallback for every other cpu kernel. */
function registerKernels(native: Set<string>): void {
  if (registered) return;
  registered = true;
  const names = new Set(tf.getKernelsForBackend('cpu').map((k) => k.kernelName));
  for (const k of [...Object.keys(NATIVE), ...Object.keys(VIEWS)]) names.add(k);
  for (const kernelName of names) {
    const prepare = native.has(kernelName) ? NATIVE[kernelName] : undefined;
    const view = VIEWS[kernelName];
    tf.registerKernel({
      kernelName,
      backendName: 'torch',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const b = backend as TorchBackend;
        const a = attrs as Attrs;
        if (view) return view(inputs, a, b);
        if (prepare) {
          const all = Object.values(inputs).filter((t): t is tf.TensorInfo => t != null);
          // Empty tensors and dtypes ATen does not hold take the cpu kernel (exact tfjs edge semantics).
          if (all.every((t) => natural(t) && size(t) > 0)) {
            const p = prepare(inputs, a);
            if (p) {
              const out = run(b, kernelName, p.inputs, p.nums);
              return kernelName === 'SplitV' || kernelName === 'Unpack' ? out : out[0]!;
            }
          }
        }
        return fallback(kernelName, inputs, a, b);
      },
    });
  }
}

/**
 * Registers the `torch` backend with tfjs (once), configured with `options`. Returns the
 * addon's info, or throws with the one-line reason the backend is unavailable.
 */
export function registerTorchBackend(options: TorchOptions = DEFAULT_TORCH_OPTIONS): TorchInfo {
  const l = loadTorchAddon();
  if ('reason' in l) throw new Error(l.reason);
  const probe = l.addon.configure({});
  const device = options.device === 'auto' ? (probe.cuda ? 'cuda' : 'cpu') : options.device;
  const threads = options.threads > 0 ? options.threads : os.availableParallelism();
  // cuBLAS is deterministic only with a fixed workspace; without it ATen refuses matmuls.
  if (device === 'cuda' && options.deterministic) process.env.CUBLAS_WORKSPACE_CONFIG ??= ':4096:8';
  const info = l.addon.configure({
    device,
    threads,
    deterministic: options.deterministic,
    cudnnBenchmark: options.cudnnBenchmark,
    tf32: options.tf32,
  });
  setNativeMode(options.native ?? DEFAULT_NATIVE_MODE);
  if (!tf.findBackendFactory('torch')) {
    registerKernels(new Set(l.addon.kernels()));
    tf.registerBackend('torch', () => new TorchBackend(l.addon, info), 0);
  }
  return info;
}
