import { loadTorchAddon } from '../src/engine/torch/backend';

/**
 * `skip` for the torch tests: the reason when this machine has no torch addon (no libtorch),
 * unless REPRO_REQUIRE_TORCH=1 (CI installs Debian's libtorch-dev and sets it), where a missing
 * addon is a failure, not a skip.
 */
export function torchRequired(): string | false {
  const l = loadTorchAddon();
  if ('addon' in l || process.env.REPRO_REQUIRE_TORCH === '1') return false;
  return `no torch backend on this machine: ${l.reason}`;
}
