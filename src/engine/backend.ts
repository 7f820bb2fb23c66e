/* eslint-disable @typescript-eslint/no-require-imports -- optional backends must be loaded lazily, and only if installed */
import * as path from 'path';

/**
 * TensorFlow.js backend selection. Order for `auto`: tfjs-node-gpu (CUDA), tfjs-node
 * (libtensorflow on CPU), WASM, then the pure-JS CPU backend. The first two are optional
 * dependencies whose install downloads libtensorflow, so they are often absent: each is tried
 * and skipped with the reason recorded.
 */

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu' | 'webgpu';

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
 * Switch tfjs to one named backend now, registering WASM first if needed (tests and benchmarks
 * compare backends side by side in one process). Returns false if it cannot initialize.
 */
export async function useBackend(name: 'cpu' | 'wasm'): Promise<boolean> {
  const tf = require('@tensorflow/tfjs') as Tf;
  if (name === 'wasm' && !tf.findBackendFactory('wasm')) {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);
  }
  const ok = await tf.setBackend(name);
  await tf.ready();
  return ok;
}

/** Initialize tfjs once per process with the preferred backend; later calls return the same. */
export async function selectBackend(preference: BackendPreference = 'auto'): Promise<{ tf: Tf; info: BackendInfo }> {
  if (selected) return selected;
  const skipped: string[] = [];
  const attempts: Array<[string, () => Promise<Tf>]> = [];
  const native = (pkg: string) => async (): Promise<Tf> => {
    const tf = require(pkg) as Tf; // registers the 'tensorflow' backend
    await tf.setBackend('tensorflow');
    return tf;
  };
  if (preference === 'auto' || preference === 'tensorflow') {
    attempts.push(['@tensorflow/tfjs-node-gpu', native('@tensorflow/tfjs-node-gpu')]);
    attempts.push(['@tensorflow/tfjs-node', native('@tensorflow/tfjs-node')]);
  }
  if (preference === 'auto' || preference === 'wasm') {
    attempts.push(['@tensorflow/tfjs-backend-wasm', async () => {
      if (!(await useBackend('wasm'))) throw new Error('wasm backend failed to initialize');
      return require('@tensorflow/tfjs') as Tf;
    }]);
  }
  if (preference === 'webgpu') {
    attempts.push(['@tensorflow/tfjs-backend-webgpu', async () => {
      const tf = require('@tensorflow/tfjs') as Tf;
      require('@tensorflow/tfjs-backend-webgpu');
      if (!(await tf.setBackend('webgpu'))) throw new Error('no WebGPU adapter');
      return tf;
    }]);
  }
  attempts.push(['@tensorflow/tfjs-backend-cpu', async () => {
    const tf = require('@tensorflow/tfjs') as Tf;
    await tf.setBackend('cpu');
    return tf;
  }]);
  for (const [pkg, attempt] of attempts) {
    try {
      const tf = await attempt();
      await tf.ready();
      selected = { tf, info: { name: tf.getBackend(), package: `${pkg}@${versionOf(pkg)}`, skipped } };
      return selected;
    } catch (err) {
      skipped.push(`${pkg}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no tfjs backend could be initialized: ${skipped.join('; ')}`);
}
