/**
 * Whether the torch backend runs models as native programs (src/engine/torch/native.ts): the
 * `torch.native` option as registerTorchBackend last set it, or REPRO_TORCH_NATIVE where set (the
 * tests run the same suites on both paths with it, as REPRO_TORCH_FALLBACK=error proves the
 * kernel path native).
 */
export type NativeMode = 'off' | 'auto' | 'on';

export const NATIVE_MODES: readonly NativeMode[] = ['off', 'auto', 'on'];

/**
 * `auto`: native programs for every model and option they compile, on the CPU measured at or above
 * PyTorch (npm run bench -- engine) and the whole default suite run on them. Not yet measured on
 * a GPU (the tfjs-kernel path it replaces ran at 0.03x PyTorch there); `torch.native=off` restores
 * the tfjs kernels.
 */
export const DEFAULT_NATIVE_MODE: NativeMode = 'auto';

let configured: NativeMode = DEFAULT_NATIVE_MODE;

export function setNativeMode(mode: NativeMode): void {
  if (!NATIVE_MODES.includes(mode))
    throw new Error(`torch.native must be one of ${NATIVE_MODES.join(', ')}, got ${mode}`);
  configured = mode;
}

export function nativeMode(): NativeMode {
  const env = process.env.REPRO_TORCH_NATIVE;
  if (env === undefined || env === '') return configured;
  if (!(NATIVE_MODES as readonly string[]).includes(env))
    throw new Error(`REPRO_TORCH_NATIVE must be one of ${NATIVE_MODES.join(', ')}, got '${env}'`);
  return env as NativeMode;
}
