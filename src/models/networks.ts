import type { Builder, NetworkFn } from './builder';

/**
 * The paper's networks, written once against Builder (see builder.ts). Architectures follow
 * the CIFAR versions of kuangliu/pytorch-cifar that the paper's experiments are built on.
 */

/** Fully connected ReLU network, e.g. dims [196, 30, 10] (6220 parameters). */
export function mlp(dims: number[]): NetworkFn {
  return <T>(b: Builder<T>, x: T): T => {
    let h = x;
    for (let i = 1; i < dims.length; i++) {
      h = b.dense(`fc${i}`, h, dims[i]!);
      if (i < dims.length - 1) h = b.act(h);
    }
    return h;
  };
}

/**
 * The fig6 small CNN: three 3×3 conv layers with 15, 20, 10 channels; 2×2 max pools between; global average to
 * logits.
 */
export function smallCnn(): NetworkFn {
  return <T>(b: Builder<T>, x: T): T => {
    let h = b.maxPool2(b.act(b.conv('conv1', x, 15, 3)));
    h = b.maxPool2(b.act(b.conv('conv2', h, 20, 3)));
    return b.globalAvgPool(b.conv('conv3', h, 10, 3));
  };
}

/** The 4-layer MNIST ConvNet (conv 32, conv 64, max pool, dense 128, dense 10): 1,199,882 parameters. */
export function mnistConvNet(numClasses: number): NetworkFn {
  return <T>(b: Builder<T>, x: T): T => {
    let h = b.act(b.conv('conv1', x, 32, 3, { padding: 'valid' }));
    h = b.maxPool2(b.act(b.conv('conv2', h, 64, 3, { padding: 'valid' })));
    h = b.act(b.dense('fc1', b.flatten(h), 128));
    return b.dense('fc2', h, numClasses);
  };
}

/**
 * PreAct-ResNet18 (He et al. 2016, identity mappings): 11,171,146 parameters for 10 classes at
 * the standard base width 64. Narrower widths keep the exact structure (tests use them: the
 * same code at a fraction of the cost).
 */
export function preactResNet18(numClasses: number, width = 64): NetworkFn {
  return <T>(b: Builder<T>, x: T): T => {
    let h = b.conv('conv1', x, width, 3, { bias: false });
    let inPlanes = width;
    [width, 2 * width, 4 * width, 8 * width].forEach((planes, layer) => {
      for (let block = 0; block < 2; block++) {
        const stride = block === 0 && layer > 0 ? 2 : 1;
        const name = `layer${layer + 1}.${block}`;
        const pre = b.act(b.batchNorm(`${name}.bn1`, h));
        const shortcut =
          stride !== 1 || inPlanes !== planes ? b.conv(`${name}.shortcut`, pre, planes, 1, { stride, bias: false }) : h;
        let out = b.conv(`${name}.conv1`, pre, planes, 3, { stride, bias: false });
        out = b.conv(`${name}.conv2`, b.act(b.batchNorm(`${name}.bn2`, out)), planes, 3, { bias: false });
        h = b.add(out, shortcut);
        inPlanes = planes;
      }
    });
    // The reference pools 4×4 with stride 4, which on 32×32 inputs is the global average.
    return b.dense('linear', b.globalAvgPool(h), numClasses);
  };
}

const VGG16 = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'] as const;

/** VGG16 with batch norm: 14,728,266 parameters for 10 classes at base width 64. */
export function vgg16bn(numClasses: number, width = 64): NetworkFn {
  return <T>(b: Builder<T>, x: T): T => {
    let h = x;
    let i = 0;
    for (const item of VGG16) {
      if (item === 'M') {
        h = b.maxPool2(h);
        continue;
      }
      i++;
      h = b.act(b.batchNorm(`features.bn${i}`, b.conv(`features.conv${i}`, h, (item * width) / 64, 3)));
    }
    return b.dense('classifier', b.flatten(h), numClasses);
  };
}

/** DenseNet-BC (Huang et al. 2017) with bottlenecks, blocks (6, 12, 24, 16), growth 12, compression 0.5. */
export function denseNetBC(numClasses: number, blocks: number[] = [6, 12, 24, 16], growth = 12): NetworkFn {
  return <T>(b: Builder<T>, x: T): T => {
    let planes = 2 * growth;
    let h = b.conv('conv1', x, planes, 3, { bias: false });
    blocks.forEach((layers, d) => {
      for (let l = 0; l < layers; l++) {
        const name = `dense${d + 1}.${l}`;
        let out = b.conv(`${name}.conv1`, b.act(b.batchNorm(`${name}.bn1`, h)), 4 * growth, 1, { bias: false });
        out = b.conv(`${name}.conv2`, b.act(b.batchNorm(`${name}.bn2`, out)), growth, 3, { bias: false });
        h = b.concat([out, h]);
        planes += growth;
      }
      if (d < blocks.length - 1) {
        const outPlanes = Math.floor(planes * 0.5);
        h = b.avgPool(
          b.conv(`trans${d + 1}.conv`, b.act(b.batchNorm(`trans${d + 1}.bn`, h)), outPlanes, 1, { bias: false }),
          2,
        );
        planes = outPlanes;
      }
    });
    h = b.act(b.batchNorm('bn', h));
    return b.dense('linear', b.globalAvgPool(h), numClasses);
  };
}
