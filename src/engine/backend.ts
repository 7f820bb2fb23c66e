/* eslint-disable @typescript-eslint/no-require-imports -- optional backends load lazily, and only if installed */
import { execFileSync } from 'child_process';
import * as path from 'path';

import { DEFAULT_TORCH_OPTIONS, registerTorchBackend, type TorchInfo, type TorchOptions } from './torch/backend';
import { nativeMode } from './torch/native-mode';

/**
 * TensorFlow.js backend selection. Order for `auto`: torch on CUDA (our libtorch addon),
 * tfjs-node-gpu (CUDA), WebGPU (Dawn, when a GPU adapter is found), tfjs-node (libtensorflow on
 * CPU), torch on the CPU, WASM, then the pure-JS CPU backend. torch-cpu comes before WASM because
 * `npm run bench -- engine` measures it faster on every model (1.3-6.5x on 2 cores, 2026-11-27).
 * The native and WebGPU packages are optional (libtensorflow's install downloads from a host that
 * is often unreachable; the torch addon needs libtorch), so each is tried and skipped with the
 * reason recorded.
 */

export type BackendPreference = 'auto' | 'torch' | 'tensorflow' | 'wasm' | 'cpu' | 'webgpu';

export interface BackendInfo {
  /** tfjs backend name as `tf.getBackend()` reports it. */
  name: string;
  /** npm package that provides it, with version. */
  package: string;
  /** Why earlier choices were skipped. */
  skipped: string[];
}

type Tf = typeof import('@tensorflow/tfjs');

let selected: { tf: Tf; info: BackendInfo } | undefined;

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * WebGPU through Dawn (npm `webgpu`), used only when a real GPU adapter is found: Dawn needs a
 * Vulkan loader on Linux, and without one we skip it rather than let it print warnings.
 */
async function initWebGpu(): Promise<Tf> {
  if (process.platform === 'linux') {
    let loaders = '';
    try {
      loaders = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // no ldconfig: let Dawn look for itself
    }
    if (loaders && !loaders.includes('libvulkan.so.1'))
      throw new Error('no Vulkan loader (libvulkan.so.1), so no GPU adapter');
  }
  const { create, globals } = require('webgpu') as {
    create: (flags: string[]) => { requestAdapter(): Promise<{ isFallbackAdapter?: boolean } | null> };
    globals: object;
  };
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter || adapter.isFallbackAdapter) throw new Error('no GPU adapter');
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  require('@tensorflow/tfjs-backend-webgpu');
  const tf = require('@tensorflow/tfjs') as Tf;
  // conv2dTranspose (every convolution's input gradient) as a matmul rather than the naive
  // per-output-pixel shader (tfjs's own advice for large inputs); checked by the kernel contract.
  tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', false);
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs webgpu backend failed to initialize');
  return tf;
}

/** Whether WebGPU initializes here (a real GPU adapter through Dawn); switches to it if so. */
export async function useWebGpu(): Promise<boolean> {
  try {
    await initWebGpu();
    return true;
  } catch {
    return false;
  }
}

/**
 * Switch tfjs to one named backend now, registering WASM first if needed (tests and benchmarks
 * compare backends side by side in one process). Returns false if it cannot initialize.
 */
export async function useBackend(
  name: 'cpu' | 'wasm' | 'torch',
  torch: TorchOptions = DEFAULT_TORCH_OPTIONS,
): Promise<boolean> {
  const tf = require('@tensorflow/tfjs') as Tf;
  if (name === 'torch') registerTorchBackend(torch);
  if (name === 'wasm' && !tf.findBackendFactory('wasm')) {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(
      path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep,
    );
  }
  const ok = await tf.setBackend(name);
  await tf.ready();
  return ok;
}

/** Initialize tfjs once per process with the preferred backend; later calls return the same. */
export async function selectBackend(
  preference: BackendPreference = 'auto',
  torch: TorchOptions = DEFAULT_TORCH_OPTIONS,
): Promise<{ tf: Tf; info: BackendInfo }> {
  if (selected) return selected;
  const skipped: string[] = [];
  const attempts: Array<[string, () => Promise<Tf>]> = [];
  let torchLabel = 'repro torch addon';
  const useTorch = (cudaOnly: boolean) => async (): Promise<Tf> => {
    const info = registerTorchBackend(torch);
    if (cudaOnly && !info.device.startsWith('cuda'))
      throw new Error(`no CUDA in this libtorch (${info.version}); tried again after the GPU backends`);
    const tf = require('@tensorflow/tfjs') as Tf;
    if (!(await tf.setBackend('torch'))) throw new Error('torch backend failed to initialize');
    torchLabel = torchPackageLabel(info);
    return tf;
  };
  if (preference === 'auto' && torch.device !== 'cpu') attempts.push(['torch (CUDA)', useTorch(true)]);
  if (preference === 'torch') attempts.push(['torch', useTorch(false)]);
  const native = (pkg: string) => async (): Promise<Tf> => {
    const tf = require(pkg) as Tf; // registers the 'tensorflow' backend
    await tf.setBackend('tensorflow');
    return tf;
  };
  if (preference === 'auto' || preference === 'tensorflow')
    attempts.push(['@tensorflow/tfjs-node-gpu', native('@tensorflow/tfjs-node-gpu')]);
  if (preference === 'auto' || preference === 'webgpu') attempts.push(['@tensorflow/tfjs-backend-webgpu', initWebGpu]);
  if (preference === 'auto' || preference === 'tensorflow')
    attempts.push(['@tensorflow/tfjs-node', native('@tensorflow/tfjs-node')]);
  if (preference === 'auto' && torch.device !== 'cuda') attempts.push(['torch', useTorch(false)]);
  if (preference === 'auto' || preference === 'wasm') {
    attempts.push([
      '@tensorflow/tfjs-backend-wasm',
      async () => {
        if (!(await useBackend('wasm'))) throw new Error('wasm backend failed to initialize');
        return require('@tensorflow/tfjs') as Tf;
      },
    ]);
  }
  // An explicit torch is torch or an error: a run asked onto libtorch must not silently run in JS.
  if (preference !== 'torch')
    attempts.push([
      '@tensorflow/tfjs-backend-cpu',
      async () => {
        const tf = require('@tensorflow/tfjs') as Tf;
        await tf.setBackend('cpu');
        return tf;
      },
    ]);
  for (const [pkg, attempt] of attempts) {
    try {
      const tf = await attempt();
      await tf.ready();
      const name = tf.getBackend();
      selected = { tf, info: { name, package: name === 'torch' ? torchLabel : `${pkg}@${versionOf(pkg)}`, skipped } };
      return selected;
    } catch (err) {
      skipped.push(`${pkg}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(
    preference === 'torch' ? skipped.join('; ') : `no tfjs backend could be initialized: ${skipped.join('; ')}`,
  );
}

/**
 * The torch backend's identity in results and cache keys: libtorch's version, the device, the
 * thread count on the CPU and the switches that change numbers, the addon's build (its sources' hash) and, when native
 * programs are on, `native` (`native-auto` under `auto`, where a model that cannot run natively
 * runs on tfjs kernels).
 */
export function torchPackageLabel(info: TorchInfo): string {
  const mode = nativeMode();
  return [
    `libtorch ${info.version} ${info.device}`,
    // CPU kernels split sums by thread: another count is other numbers (fig6's verdicts moved).
    info.device.startsWith('cuda') ? '' : ` ${info.threads} thread${info.threads === 1 ? '' : 's'}`,
    info.tf32 ? ' tf32' : '',
    info.deterministic ? '' : ' nondeterministic',
    ` addon ${info.build ?? 'unversioned'}`,
    mode === 'on' ? ' native' : mode === 'auto' ? ' native-auto' : '',
  ].join('');
}

/** How results and cache keys name a backend: tfjs name and the package (with version) behind it. */
export function backendLabel(info: BackendInfo): string {
  return `${info.name} (${info.package})`;
}

/**
 * Make the process's preferred backend the current one and return it. Every backend trains
 * every model: convolution filter gradients are forward convolutions (see second-order.ts), so
 * WASM, which has no Conv2DBackpropFilter kernel, trains convolutional models too (a test
 * that something switched the process elsewhere switches it back).
 */
export async function usePreferredBackend(
  preference: BackendPreference = 'auto',
  torch: TorchOptions = DEFAULT_TORCH_OPTIONS,
): Promise<BackendInfo> {
  const { tf, info } = await selectBackend(preference, torch);
  if (tf.getBackend() !== info.name && (info.name === 'cpu' || info.name === 'wasm' || info.name === 'torch'))
    await useBackend(info.name, torch);
  return info;
}
