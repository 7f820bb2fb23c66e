import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { loadCifar } from '../../../src/data/cifar-download';
import type { Dataset } from '../../../src/data/dataset';
import { loadMnist } from '../../../src/data/mnist';
import { subset } from '../../../src/data/preprocess';
import { decodeTensorData, fitToModel } from '../../../src/data/tensor-data';
import { usePreferredBackend } from '../../../src/engine/backend';
import { analyzeHessian } from '../../../src/hessian/analyze';
import { buildModel, type Model } from '../../../src/models/model';
import { decodeWeights, encodeWeights } from '../../../src/models/weights-io';
import { configFrom, print, printJson, UsageError, type GlobalArgs } from '../context';

interface HessianArgs extends GlobalArgs {
  model: string;
  classes?: number;
  weights?: string;
  data?: string;
  samples?: number;
  loss: 'lsce' | 'mse';
  smoothing: number;
  exact: boolean;
  probes: number;
  top: number;
  seed: number;
  initSeed?: number;
  saveWeights?: string;
}

export const hessianCommand: CommandModule<GlobalArgs, HessianArgs> = {
  command: 'hessian',
  describe: 'Loss, Hessian trace and spectrum of a model at given weights on given data (local; no Temporal or S3)',
  builder: (y) =>
    y
      .option('model', {
        type: 'string',
        demandOption: true,
        describe: 'mlp:196-30-10, mlp:49-70-10, small-cnn, convnet4, preact-resnet18, vgg16-bn, densenet-bc',
      })
      .option('classes', { type: 'number', describe: "number of classes (default: the model's)" })
      .option('weights', {
        type: 'string',
        describe: 'safetensors with one float32 tensor per parameter (see --save-weights)',
      })
      .option('data', {
        type: 'string',
        describe:
          'safetensors with x [n, ...] float32 and y [n] int32, or a data set: mnist, mnist-test, cifar10, cifar100',
      })
      .option('samples', { type: 'number', describe: 'with a data set name: use this many samples (seeded subset)' })
      .option('loss', {
        choices: ['lsce', 'mse'] as const,
        default: 'lsce' as const,
        describe: 'label-smoothing cross entropy or mean squared error',
      })
      .option('smoothing', {
        type: 'number',
        default: 0.1,
        describe: 'label smoothing s: targets (1 − s)·onehot + s/K',
      })
      .option('exact', {
        type: 'boolean',
        default: false,
        describe: 'form the full Hessian: exact trace and spectrum (small models)',
      })
      .option('probes', {
        type: 'number',
        default: 100,
        describe: 'Hessian-vector products for the trace estimate (XTrace)',
      })
      .option('top', { type: 'number', default: 10, describe: 'how many top eigenvalues to report' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the probes and of the data subset' })
      .option('init-seed', { type: 'number', describe: 'with --save-weights: He-initialized weights from this seed' })
      .option('save-weights', { type: 'string', describe: "write a weights template (the model's layout) and exit" }),
  handler: async (argv) => {
    let model: Model;
    try {
      model = buildModel(argv.model, argv.classes);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (argv.saveWeights !== undefined) {
      writeFileSync(argv.saveWeights, encodeWeights(model, model.init(argv.initSeed ?? 0)));
      if (argv.json)
        printJson({ model: model.name, params: model.paramCount, weights: path.resolve(argv.saveWeights) });
      else print(`wrote ${model.paramCount} parameters of ${model.name} to ${argv.saveWeights}`);
      return;
    }
    if (!argv.weights)
      throw new UsageError('--weights FILE is required (write a template with --init-seed 0 --save-weights FILE)');
    if (!argv.data)
      throw new UsageError(
        '--data is required: a safetensors file with x and y, or mnist, mnist-test, cifar10, cifar100',
      );
    for (const [name, v] of [
      ['probes', argv.probes],
      ['top', argv.top],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${name} ${v}: must be a positive integer`);
    }
    if (!(argv.smoothing >= 0 && argv.smoothing < 1))
      throw new UsageError(`--smoothing ${argv.smoothing}: must be in [0, 1)`);
    const theta = decodeWeights(model, new Uint8Array(readFile(argv.weights)), argv.weights);
    const data = fitToModel(await loadData(argv, model, configFrom(argv).dataDir), model.inputShape);
    const config = configFrom(argv);
    const info = await usePreferredBackend(config.backend, config.torch);
    const report = await analyzeHessian(model, theta, data, {
      loss: argv.loss,
      smoothing: argv.smoothing,
      exact: argv.exact,
      probes: argv.probes,
      top: argv.top,
      seed: argv.seed,
      onProgress: (m) => process.stderr.write(m + '\n'),
    });
    const out = { model: model.name, ...report, backend: `${info.name} (${info.package})` };
    if (argv.json) return printJson(out);
    print(`${model.name}: ${report.params} parameters, ${report.samples} samples, loss ${report.loss.toPrecision(6)}`);
    print(
      `trace ${report.trace.value.toPrecision(6)} ± ${report.trace.stderr.toPrecision(2)} ` +
        `(${report.trace.method}, ${report.trace.hvps} HVPs)`,
    );
    print(`top eigenvalues: ${report.eigenvalues.top.map((x) => x.toPrecision(4)).join(', ')}`);
    print(
      `negative eigenvalues: sum ${report.eigenvalues.negativeSum.toPrecision(4)}, ` +
        `count ${report.eigenvalues.negativeCount} (${report.eigenvalues.method})`,
    );
  },
};

function readFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    throw new UsageError(`cannot read ${file}; check the path`);
  }
}

async function loadData(argv: HessianArgs, model: Model, dataDir: string): Promise<Dataset> {
  const named: Record<string, () => Promise<Dataset>> = {
    mnist: async () => loadMnist('train'),
    'mnist-test': async () => loadMnist('test'),
    cifar10: () => loadCifar(10, 'train', path.join(dataDir, 'datasets')),
    cifar100: () => loadCifar(100, 'train', path.join(dataDir, 'datasets')),
  };
  const loader = named[argv.data!];
  if (!loader) {
    if (!argv.data!.endsWith('.safetensors'))
      throw new UsageError(`--data ${argv.data}: not a .safetensors file nor one of ${Object.keys(named).join(', ')}`);
    return decodeTensorData(new Uint8Array(readFile(argv.data!)), argv.data!, model.numClasses);
  }
  const all = await loader();
  return argv.samples ? subset(all, argv.samples, argv.seed) : all;
}
