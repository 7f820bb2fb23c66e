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
import { configFrom, intFlag, print, printJson, UsageError, type GlobalArgs } from '../context';

/** Parameters a model may have here: its weights, gradients and Lanczos vectors must fit in memory. */
const MAX_PARAMS = 200_000_000;
/** Largest model `--exact` forms the Hessian of without --allow-large: n² doubles (800 MB) and O(n³) flops. */
const MAX_EXACT_PARAMS = 10_000;

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
  allowLarge?: boolean;
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
      .option('samples', { type: 'number', describe: 'use this many samples of the data (a subset seeded by --seed)' })
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
      .option('save-weights', { type: 'string', describe: "write a weights template (the model's layout) and exit" })
      .option('allow-large', {
        type: 'boolean',
        default: false,
        describe: `with --exact: form the Hessian of a model over ${MAX_EXACT_PARAMS} parameters`,
      }),
  handler: async (argv) => {
    // Every flag is checked before the model, the data or a backend loads.
    if (argv.classes !== undefined) intFlag('classes', argv.classes, 2);
    intFlag('seed', argv.seed, 0);
    if (argv.initSeed !== undefined) intFlag('init-seed', argv.initSeed, 0);
    if (argv.samples !== undefined) intFlag('samples', argv.samples, 1);
    if (!(argv.smoothing >= 0 && argv.smoothing < 1))
      throw new UsageError(`--smoothing ${argv.smoothing}: must be in [0, 1)`);
    let model: Model;
    try {
      model = buildModel(argv.model, argv.classes);
    } catch (err) {
      throw new UsageError(`--model ${argv.model}: ${(err as Error).message}`);
    }
    if (model.paramCount > MAX_PARAMS)
      throw new UsageError(
        `--model ${argv.model}: ${model.paramCount} parameters, more than the ${MAX_PARAMS} this command holds`,
      );
    if (argv.saveWeights !== undefined) {
      writeWeights(argv.saveWeights, encodeWeights(model, model.init(argv.initSeed ?? 0)));
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
    checkSizes(argv, model.paramCount);
    const theta = decodeWeights(model, new Uint8Array(readFile(argv.weights)), argv.weights);
    checkFiniteWeights(model, theta, argv.weights);
    const config = configFrom(argv);
    const data = fitToModel(await loadData(argv, model, config.dataDir), model.inputShape);
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

/** --probes, --top and --exact against the model's size: the estimators need fewer products than parameters. */
function checkSizes(argv: HessianArgs, params: number): void {
  intFlag('top', argv.top, 1, params);
  if (argv.exact) {
    if (params > MAX_EXACT_PARAMS && !argv.allowLarge)
      throw new UsageError(
        `--exact forms the ${params}×${params} Hessian of ${argv.model} (over ${MAX_EXACT_PARAMS} parameters: ` +
          'hours and gigabytes); drop --exact for the estimates, or add --allow-large',
      );
    return;
  }
  intFlag('probes', argv.probes, 4);
  if (argv.probes >= params)
    throw new UsageError(
      `--probes ${argv.probes}: ${argv.model} has only ${params} parameters; ` +
        `--exact gives the exact trace with ${params} products, or use --probes below ${params}`,
    );
}

/** NaN or infinite weights make every number after them meaningless: refused, naming the tensor. */
function checkFiniteWeights(model: Model, theta: Float32Array, file: string): void {
  const bad = theta.findIndex((v) => !Number.isFinite(v));
  if (bad < 0) return;
  let k = 0;
  while (k + 1 < model.params.length && model.offsets[k + 1]! <= bad) k++;
  const p = model.params[k]!;
  throw new UsageError(
    `${file}: tensor '${p.name}' holds ${theta[bad]} at index ${bad - model.offsets[k]!}; ` +
      'weights must be finite numbers (re-export them, or write a template with --init-seed 0 --save-weights FILE)',
  );
}

function writeWeights(file: string, bytes: Uint8Array): void {
  try {
    writeFileSync(file, bytes);
  } catch (err) {
    throw new UsageError(
      `cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
        'check that its folder exists and is writable',
    );
  }
}

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
  const loader = Object.prototype.hasOwnProperty.call(named, argv.data!) ? named[argv.data!] : undefined;
  let all: Dataset;
  if (loader) all = await loader();
  else if (!argv.data!.endsWith('.safetensors'))
    throw new UsageError(`--data ${argv.data}: not a .safetensors file nor one of ${Object.keys(named).join(', ')}`);
  else all = decodeTensorData(new Uint8Array(readFile(argv.data!)), argv.data!, model.numClasses);
  const bad = all.x.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new UsageError(
      `--data ${argv.data}: tensor 'x' holds ${all.x[bad]} at index ${bad}; the inputs must be finite numbers`,
    );
  if (argv.samples === undefined) return all;
  if (argv.samples > all.y.length)
    throw new UsageError(`--samples ${argv.samples}: ${argv.data} has ${all.y.length} samples; ask for at most that`);
  return subset(all, argv.samples, argv.seed);
}
