import type { Builder, NetworkFn } from '../../src/models/builder';

/**
 * The VGG-like workload that GPU.md timed: conv 64, 64, pool, 128, 128, pool, 256, pool, dense
 * 10 on 32×32×3. bench/gpu/torch_reference.py builds the same network in PyTorch.
 */
export function vggLike(): NetworkFn {
  return <T>(b: Builder<T>, x: T): T => {
    let h = b.act(b.conv('c1', x, 64, 3));
    h = b.maxPool2(b.act(b.conv('c2', h, 64, 3)));
    h = b.act(b.conv('c3', h, 128, 3));
    h = b.maxPool2(b.act(b.conv('c4', h, 128, 3)));
    h = b.maxPool2(b.act(b.conv('c5', h, 256, 3)));
    return b.dense('fc', b.flatten(h), 10);
  };
}
