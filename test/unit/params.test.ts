import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParamError, paramSet, int } from '../../src/experiments/params';
import { DEFAULT_SUITE, EXPERIMENTS, planRun } from '../../src/experiments/registry';

test('fig7 defaults follow the paper: α=1e-4, η=0.01, c=1, θ0=(0.1, 0.1)', () => {
  const { params } = planRun('fig7', 'default', []);
  assert.equal(params.alpha, 1e-4);
  assert.equal(params.lr, 0.01);
  assert.equal(params.noise, 1);
  assert.deepEqual(params.theta0, [0.1, 0.1]);
});

test('--set overrides, presets, and vectors parse', () => {
  const { params } = planRun('fig7', 'quick', ['alpha=2e-4', 'theta0=0.2,-0.1', 'steps=1000']);
  assert.equal(params.alpha, 2e-4);
  assert.equal(params.lr, 0.02);
  assert.deepEqual(params.theta0, [0.2, -0.1]);
  assert.equal(params.steps, 1000);
});

test('bad input names the parameter and the fix', () => {
  const bad = (sets: string[], re: RegExp, preset = 'default'): void =>
    assert.throws(
      () => planRun('fig7', preset, sets),
      (e: Error) => e instanceof ParamError && re.test(e.message),
    );
  bad(['lr=fast'], /lr of fig7 must be a finite number \(e.g. --set lr=0.01\)/);
  bad(['steps=1.5'], /steps of fig7 must be an integer/);
  bad(['lr=0'], /lr of fig7 must be > 0/);
  bad(['theta0=1'], /theta0 of fig7 must be 2 comma-separated numbers/);
  bad(['nope=1'], /fig7 has no parameter 'nope'; known: alpha, lr/);
  bad(['lr'], /expected key=value/);
  bad(['lr=1.99'], /makes GD unstable/);
  bad([], /unknown preset 'huge' for fig7; available: default, small, paper, quick/, 'huge');
  assert.throws(
    () => planRun('fig99', 'default', []),
    new RegExp(
      "unknown experiment 'fig99'; available: fig1, fig2a, fig2b, fig2cd, fig3, fig4a, fig4bc, " +
        'fig5, fig6, fig7, noise-topk, projected-path',
    ),
  );
});

test(
  'projected-path parameters are checked with the fix; ' + 'a convolutional model on MNIST is a stated substitution',
  () => {
    assert.throws(
      () => planRun('projected-path', 'small', ['model=resnet50']),
      /--set model=resnet50: unknown model 'resnet50'; available: mlp:IN-\.\.\.-OUT, small-cnn/,
    );
    assert.throws(
      () => planRun('projected-path', 'small', ['model=mlp:196-30', 'dataset=svhn']),
      new RegExp(
        '--set dataset=svhn: dataset of projected-path must be one of mnist, cifar10, cifar100 ' +
          '\\(e\\.g\\. --set dataset=mnist\\)',
      ),
    );
    assert.throws(
      () => planRun('fig4bc', 'small', ['corruptSamples=0']),
      /start=bad-minimum needs --set corruptSamples=N/,
    );
    assert.throws(
      () => planRun('projected-path', 'small', ['threshold=0.6', 'margin=0.7']),
      /--set margin=0.7 must be below threshold=0.6/,
    );
    const { experiment, params } = planRun('fig1', 'small', ['model=small-cnn@8x8x1']);
    assert.deepEqual(experiment.substitutions(params), [
      'MNIST in place of CIFAR10: CIFAR is not on this machine (import it with `repro data import`)',
      'model small-cnn@8x8x1 in place of preact-resnet18',
      'batch 50 in place of 500',
      'augment false in place of true',
      '500 training samples, 30 epochs, 4 seeds in place of all, 150, 10',
    ]);
    const fixed = planRun('fig1', 'small', ['threshold=0.6', 'margin=0.05']);
    assert.deepEqual(fixed.experiment.substitutions(fixed.params).slice(2, 4), [
      "minima below a fixed loss 0.6 in place of each seed's own minimal SGD training loss (the paper's threshold)",
      'projections stop 0.05 below the threshold the line checks test, in place of at it: ' +
        "segments get room the paper's procedure does not give them",
    ]);
    const vgg = planRun('fig1', 'paper-vgg16', []);
    assert.deepEqual(vgg.experiment.substitutions(vgg.params), [], 'the paper ran fig1 on VGG16 too');
    assert.deepEqual(
      planRun('fig1', 'paper', []).experiment.substitutions(planRun('fig1', 'paper', []).params),
      [],
      'the paper preset is the paper',
    );
  },
);

test('every preset of every experiment validates, and every experiment has small and paper presets', () => {
  for (const e of EXPERIMENTS) {
    assert.ok(e.presets.small && e.presets.paper, `${e.name} has small and paper presets`);
    for (const preset of Object.keys(e.presets))
      assert.doesNotThrow(() => planRun(e.name, preset, []), `${e.name} ${preset}`);
  }
  for (const { experiment, preset } of DEFAULT_SUITE) assert.doesNotThrow(() => planRun(experiment, preset, []));
});

test('presets are looked up as own keys: constructor, __proto__ and toString are unknown presets', () => {
  for (const e of ['fig7', 'fig1', 'noise-topk'])
    for (const preset of ['constructor', '__proto__', 'toString', 'hasOwnProperty', ''])
      assert.throws(
        () => planRun(e, preset, []),
        (err: Error) => err instanceof ParamError && err.message.startsWith(`unknown preset '${preset}' for ${e}`),
        `${e} ${preset}`,
      );
});

test('sizes past their large bound need --allow-large; presets and stored parameters do not', () => {
  assert.throws(
    () => planRun('fig7', 'default', ['steps=1e15']),
    /--set steps=1000000000000000: 1000000000000000 is above 1000000000, .*add --allow-large to run it/,
  );
  assert.equal(planRun('fig7', 'default', ['steps=1e15'], { allowLarge: true }).params.steps, 1e15);
  assert.equal(planRun('fig7', 'default', ['steps=1000000000']).params.steps, 1e9, 'the bound itself is taken');
  assert.throws(() => planRun('noise-topk', 'default', ['seeds=1e9']), /seeds of noise-topk .*--allow-large/);
  assert.throws(() => planRun('projected-path', 'small', ['seeds=1e9']), /--allow-large/);
  const set = paramSet({ n: int(5, 'n', { min: 1, large: 10 }), v: int(1, 'v') });
  assert.throws(() => set.resolve('toy', {}, ['n=11']), /above 10/);
  assert.equal(set.resolve('toy', { n: 100 }, []).n, 100, 'a preset may go past it');
  assert.equal(set.check('toy', { n: 100 }).n, 100, 'so may stored parameters (a run started with --allow-large)');
  // Every size that a typo could blow up carries a bound.
  for (const [e, name] of [
    ['fig7', 'steps'],
    ['fig2b', 'repeats'],
    ['fig2cd', 'steps'],
    ['fig2a', 'minimumSteps'],
    ['fig5', 'epochs'],
    ['fig6', 'epochs'],
    ['noise-topk', 'seeds'],
    ['noise-topk', 'steps'],
    ['projected-path', 'seeds'],
    ['projected-path', 'epochs'],
    ['projected-path', 'projectionSteps'],
  ] as const) {
    const spec = EXPERIMENTS.find((x) => x.name === e)!.params.find((p) => p.name === name)!;
    assert.ok(spec.large !== undefined && spec.large >= Number(spec.default), `${e} ${name} has a large bound`);
  }
});

test('sample counts past the data are refused before a run starts', () => {
  assert.throws(() => planRun('fig2a', 'default', ['samples=60001']), /samples of fig2a must be <= 60000/);
  assert.throws(() => planRun('noise-topk', 'default', ['valSamples=10001']), /must be <= 10000/);
  assert.throws(() => planRun('fig1', 'small', ['samples=60001']), /mnist has 60000 training samples/);
  assert.throws(
    () => planRun('fig1', 'small', ['dataset=cifar10', 'model=small-cnn', 'valSamples=20000']),
    /cifar10 has 10000 test samples/,
  );
  assert.throws(
    () => planRun('fig4bc', 'small', ['samples=50000', 'corruptSamples=20000']),
    /corruptSamples=20000: with samples=50000, more than the 60000 training samples of mnist/,
  );
  assert.doesNotThrow(() => planRun('fig4bc', 'paper', []));
});
