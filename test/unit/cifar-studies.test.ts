/** fig5 and fig6 on CIFAR-10: an archive in the published binary format, imported, read by the studies. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { concatDatasets, parseCifarBinary } from '../../src/data/cifar';
import { importCifar } from '../../src/data/cifar-import';
import { DataMissingError, folderDataSource } from '../../src/data/data-source';
import { flatten, grayscale, normalize, resize, subset } from '../../src/data/preprocess';
import { findExperiment, planRun } from '../../src/experiments/registry';
import { datasetHash, preparedImages } from '../../src/experiments/image-data';
import { runStudyLocally } from '../../src/experiments/run-locally';
import { cifarArchive, cifarRecords } from '../cifar-fixture';

const tmp = mkdtempSync(path.join(tmpdir(), 'repro-cifar-studies-'));

/** An imported generated archive (20 training images, the five members of 4 each) in a datasets folder of its own. */
function importedCifar(salt: number): string {
  const dir = path.join(tmp, `datasets-${salt}`);
  const archive = path.join(tmp, `cifar-10-binary-${salt}.tar.gz`);
  const bytes = cifarArchive(10, tmp, salt);
  writeFileSync(archive, bytes);
  importCifar(10, archive, dir, createHash('md5').update(bytes).digest('hex'));
  return dir;
}

/** The training set of that archive, read here from the records the fixture wrote. */
const trainingSet = (salt: number) =>
  concatDatasets(
    [0, 1, 2, 3, 4].map((i) => parseCifarBinary(cifarRecords(10, 4, i + salt), 10, `member ${i}`)),
    'cifar10-train',
  );

test.before(async () => {
  await tf.setBackend('cpu');
});

test('fig5 on CIFAR-10: 49 grey normalized inputs from the imported archive, and its content hash', async () => {
  const dir = importedCifar(0);
  const { params } = planRun('fig5', 'paper', ['samples=16', 'batch=8', 'epochs=2', 'csSamples=4', 'csProbes=2']);
  assert.equal(params.dataset, 'cifar10');
  const { outputs, analysis } = await runStudyLocally('fig5', params, 1, folderDataSource(dir));
  const expected = flatten(normalize(resize(grayscale(subset(trainingSet(0), 16, 0)), 7, 7)).data);
  for (const loss of ['lsce', 'mse']) {
    const data = (outputs[loss] as { data: Record<string, unknown> }).data;
    assert.deepEqual(data, { dataset: 'cifar10', samples: 16, inputs: 49, sha256: datasetHash(expected) });
  }
  assert.equal(analysis.claims.length, 2);
  assert.ok(
    analysis.claims.every((c) => Number.isFinite(c.measured)),
    JSON.stringify(analysis.claims),
  );
  // Another archive is other data: another identity (a unit's cache key moves with it) and another hash.
  const other = folderDataSource(importedCifar(1));
  assert.notEqual(other.identity('cifar10'), folderDataSource(dir).identity('cifar10'));
  const prep = { samples: 16, seed: 0, side: 7, colour: 'grey', normalize: true, flat: true } as const;
  assert.notEqual((await preparedImages(other, 'cifar10', prep)).sha256, datasetHash(expected));
});

test('fig6 on CIFAR-10: the small CNN on 32×32 colour images of the imported archive', async () => {
  const dir = importedCifar(0);
  const { params } = planRun('fig6', 'paper', [
    'samples=20',
    'batch=5',
    'epochs=1',
    'hessianSamples=8',
    'lanczosSteps=3',
  ]);
  assert.equal(params.dataset, 'cifar10');
  assert.equal(params.window, 'epoch');
  const { outputs } = await runStudyLocally('fig6', params, 1, folderDataSource(dir));
  const out = outputs.sgd as { data: Record<string, unknown>; epochs: Array<{ full: { deviation: number } }> };
  assert.deepEqual(out.data, {
    dataset: 'cifar10',
    samples: 20,
    shape: [32, 32, 3],
    sha256: datasetHash(subset(trainingSet(0), 20, 4)),
  });
  assert.equal(out.epochs.length, 1);
  assert.ok(Number.isFinite(out.epochs[0]!.full.deviation));
});

test('CIFAR-10 asked for and not imported: one line that says how to import it, before anything runs', async () => {
  for (const exp of ['fig5', 'fig6']) {
    const { params } = planRun(exp, 'paper', []);
    for (const source of [folderDataSource(path.join(tmp, 'empty')), folderDataSource()]) {
      await assert.rejects(runStudyLocally(exp, params, 1, source), (err: Error) => {
        assert.ok(err instanceof DataMissingError, String(err));
        assert.equal(err.message.split('\n').length, 1);
        assert.match(err.message, /^CIFAR-10 is not on this machine.*repro data import cifar10/);
        return true;
      });
    }
  }
});

test('presets: paper runs CIFAR-10 with no substitution; small runs MNIST and names it', () => {
  for (const exp of ['fig5', 'fig6']) {
    const e = findExperiment(exp);
    const paper = e.resolve('paper', []);
    assert.equal(paper.dataset, 'cifar10');
    assert.deepEqual(e.substitutions(paper), []);
    const small = e.resolve('small', []);
    assert.equal(small.dataset, 'mnist');
    assert.match(e.substitutions(small)[0]!, /^MNIST .*in place of CIFAR-10/);
  }
  const fig6 = findExperiment('fig6');
  assert.ok(
    fig6.substitutions(fig6.resolve('small', [])).some((s) => /latter half in place of the whole epoch/.test(s)),
  );
  assert.equal(fig6.resolve('paper', []).epochs, 50);
  assert.throws(() => findExperiment('fig5').resolve('paper', ['samples=60000']), /cifar10 has 50000 training images/);
});
