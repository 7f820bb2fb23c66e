import { createHash } from 'crypto';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { ReproConfig } from '../../temporal.config';
import { CheckpointStore, type CheckpointManifest } from '../../src/checkpoint/checkpoint-store';
import { decodeSafetensors } from '../../src/checkpoint/safetensors';
import { loadCifar } from '../../src/data/cifar-download';
import { cifarSource } from '../../src/data/cifar-import';
import type { Dataset } from '../../src/data/dataset';
import { loadMnist } from '../../src/data/mnist';
import { shuffleLabels, subset } from '../../src/data/preprocess';
import { select } from '../../src/data/dataset';
import { fitToModel } from '../../src/data/tensor-data';
import { withData, type PathParts } from '../../src/experiments/projected-path/parts';
import type { Objective } from '../../src/hessian/hvp';
import { backendLabel, usePreferredBackend } from '../../src/engine/backend';
import { buildModel, type Model } from '../../src/models/model';
import type { ObjectStore } from '../../src/storage/object-store';
import { stateToTensors, tensorsToState } from '../../src/train/state-tensors';
import { Trainer, type TrainState } from '../../src/train/trainer';
import { nonRetryable } from '../failures';
import { WriteBehind } from '../stage-cache';
import { RecentStates } from './recent-states';

/** A stored SGD state or minimum: the manifest key that commits it and its data hash. */
export interface StateRef {
  key: string;
  sha256: string;
  iteration: number;
}

/** What the recently saved or loaded states may hold in a worker's memory. */
const RECENT_STATE_BYTES = 256 << 20;

/**
 * What the pipeline's activities share inside one worker: data sets and their tensors, loaded
 * once per process and parameter set (a worker runs many activities of the same run).
 */
export class PathWorkspace {
  private readonly data = new Map<string, Promise<{ train: Dataset; val: Dataset }>>();
  private readonly objectiveCache = new Map<string, { train: Objective; val: Objective }>();
  private readonly dataHashes = new Map<string, Promise<string>>();
  /** States saved or verified here lately: the next stage that loads one skips S3 (see {@link RecentStates}). */
  private readonly recent = new RecentStates(RECENT_STATE_BYTES);
  /** Write queues not yet drained (see {@link writeBehind}). */
  private readonly writing = new Set<Promise<void>>();
  readonly checkpoints: CheckpointStore;

  constructor(
    readonly store: ObjectStore,
    readonly config: ReproConfig,
    /** The code that computes here: only its own training checkpoints are recomputed when corrupt. */
    private readonly codeVersion = '',
  ) {
    this.checkpoints = new CheckpointStore(store);
  }

  model(name: string): Model {
    return buildModel(name);
  }

  async datasets(p: PathParts['objective']): Promise<{ train: Dataset; val: Dataset }> {
    const id = JSON.stringify([p.dataset, p.samples, p.valSamples, p.model]);
    let d = this.data.get(id);
    if (!d) {
      d = (async () => {
        // Each step is synchronous work of up to seconds: yield between them, so that the
        // activity's heartbeat ticker gets a turn.
        const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
        const load = async (split: 'train' | 'test'): Promise<Dataset> => {
          await tick();
          return p.dataset === 'mnist' ? loadMnist(split) : this.cifar(p.dataset, split);
        };
        const train = await load('train');
        const test = await load('test');
        const shape = this.model(p.model).inputShape;
        // The subsets are fixed by the data seed 0: every seed of a run trains on the same data.
        await tick();
        const fitTrain = fitToModel(p.samples ? subset(train, p.samples, 0) : train, shape);
        await tick();
        return { train: fitTrain, val: fitToModel(p.valSamples ? subset(test, p.valSamples, 1) : test, shape) };
      })();
      this.data.set(id, d);
    }
    return d;
  }

  /** The SHA-256 of the content of `p`'s training and validation sets (shapes, samples and labels). */
  dataHash(p: PathParts['objective']): Promise<string> {
    const id = JSON.stringify([p.dataset, p.samples, p.valSamples, p.model]);
    let h = this.dataHashes.get(id);
    if (!h) {
      h = this.datasets(p).then(async ({ train, val }) => {
        const hash = createHash('sha256');
        // 8 MiB at a time, yielding between: a worker's heartbeats get out while CIFAR is hashed.
        const update = async (a: Float32Array | Int32Array): Promise<void> => {
          const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
          for (let at = 0; at < bytes.length; at += 8 << 20) {
            hash.update(bytes.subarray(at, at + (8 << 20)));
            await new Promise((r) => setImmediate(r));
          }
        };
        for (const d of [train, val]) {
          hash.update(JSON.stringify([d.shape, d.classes, d.y.length]));
          await update(d.x);
          await update(d.y);
        }
        return hash.digest('hex');
      });
      h.catch(() => this.dataHashes.delete(id));
      this.dataHashes.set(id, h);
    }
    return h;
  }

  /**
   * `parts` naming their data by content: the hash of what this worker loads, checked against the
   * one the run's training recorded if the parts carry it (a data set replaced in the middle of a
   * run would mix answers from two data sets: non-retryable).
   */
  async withDataHash(parts: PathParts): Promise<PathParts> {
    const hash = await this.dataHash(parts.objective);
    if (parts.objective.data !== undefined && parts.objective.data !== hash)
      throw nonRetryable(
        `the ${parts.objective.dataset} data on this worker (sha256 ${hash.slice(0, 12)}…) is not the data the run ` +
          `trained on (${parts.objective.data.slice(0, 12)}…): it was re-imported or differs between workers; ` +
          'start the run again',
        'InputMismatch',
      );
    return withData(parts, hash);
  }

  /** CIFAR from the datasets folder (imported, or downloaded once from the canonical host or the mirror). */
  cifar(dataset: 'cifar10' | 'cifar100', split: 'train' | 'test'): Promise<Dataset> {
    const variant = dataset === 'cifar10' ? 10 : 100;
    const cache = path.join(this.config.dataDir, 'datasets');
    return loadCifar(variant, split, cache, cifarSource(variant, cache, this.config.data.cifarMirror));
  }

  /**
   * fig4bc's corrupt set B: `n` more training samples, disjoint from the clean set (the next ones
   * of the same seeded draw), with their labels shuffled among them.
   */
  async corruptSet(p: PathParts['objective'], n: number): Promise<Dataset> {
    const all = p.dataset === 'mnist' ? loadMnist('train') : await this.cifar(p.dataset, 'train');
    const clean = p.samples || all.y.length - n;
    if (clean + n > all.y.length)
      throw nonRetryable(
        `${p.dataset} has ${all.y.length} training samples, fewer than ${clean} clean + ${n} corrupt`,
        'ParamError',
      );
    const drawn = subset(all, clean + n, 0);
    const b = select(
      drawn,
      Int32Array.from({ length: n }, (_, i) => clean + i),
      `${drawn.name}/corrupt`,
    );
    return fitToModel(shuffleLabels(b, 1), this.model(p.model).inputShape);
  }

  /**
   * Make the worker's backend current (every backend trains every model) and return its label,
   * which stage cache keys and results carry.
   */
  async backend(): Promise<string> {
    return backendLabel(await usePreferredBackend(this.config.backend, this.config.torch));
  }

  /** Full-batch objectives (chunks of 1000 samples) on the training and validation sets. */
  async objectives(p: PathParts['objective']): Promise<{ train: Objective; val: Objective }> {
    await this.backend();
    const id = JSON.stringify([p.dataset, p.samples, p.valSamples, p.model, p.smoothing]);
    let o = this.objectiveCache.get(id);
    if (!o) {
      const { train, val } = await this.datasets(p);
      const model = this.model(p.model);
      const chunks = (d: Dataset): Objective['batches'] => {
        const s = d.shape.reduce((a, b) => a * b, 1);
        const out: Objective['batches'] = [];
        for (let at = 0; at < d.y.length; at += 1000) {
          const m = Math.min(1000, d.y.length - at);
          out.push({
            x: tf.keep(tf.tensor(d.x.subarray(at * s, (at + m) * s), [m, ...d.shape])),
            y: tf.keep(tf.tensor1d(d.y.subarray(at, at + m), 'int32')),
          });
        }
        return out;
      };
      o = {
        train: { model, batches: chunks(train), loss: 'lsce', smoothing: p.smoothing },
        val: { model, batches: chunks(val), loss: 'lsce', smoothing: p.smoothing },
      };
      this.objectiveCache.set(id, o);
    }
    return o;
  }

  async trainer(p: Pick<PathParts, 'objective' | 'sgd' | 'sampling'>, seed: number): Promise<Trainer> {
    await this.backend();
    const { train } = await this.datasets(p.objective);
    return new Trainer({
      model: this.model(p.objective.model),
      data: train,
      loss: 'lsce',
      smoothing: p.objective.smoothing,
      batchSize: p.sampling.batch,
      augment: p.sampling.augment,
      seed,
      sgd: p.sgd,
    });
  }

  /**
   * Load a committed state, verified against the hash the caller holds (or from the states this
   * worker saved or verified lately, held by that hash: no S3 round trip). A training checkpoint
   * whose data no longer verifies (corrupt or lost) is recomputed from the newest good one before
   * it (training is deterministic) and put back, if the bytes come out as committed; anything
   * else that does not verify will not on a retry either: a non-retryable `CorruptCheckpoint`.
   */
  async loadState(ref: StateRef): Promise<TrainState> {
    const held = this.recent.get(ref.sha256);
    if (held) return tensorsToState(decodeSafetensors(held, ref.key).tensors);
    // A state queued to be written may have left memory before it landed: let the queues drain.
    if (this.writing.size) await Promise.allSettled([...this.writing]);
    const loaded = await this.checkpoints.tryLoad(ref.key);
    if (typeof loaded !== 'string' && loaded.manifest.data.sha256 === ref.sha256) {
      this.recent.set(ref.sha256, loaded.bytes);
      return tensorsToState(loaded.tensors);
    }
    const why = typeof loaded === 'string' ? loaded : `the stored state's sha256 is ${loaded.manifest.data.sha256}`;
    if (typeof loaded === 'string' && this.codeVersion) {
      const repaired = await this.recomputeTraining(ref);
      if (repaired) return repaired;
    }
    throw nonRetryable(`state ${ref.key} does not verify against sha256 ${ref.sha256}: ${why}`, 'CorruptCheckpoint');
  }

  /** A training checkpoint recomputed from the newest good one before it, put back; undefined if it cannot be. */
  private async recomputeTraining(ref: StateRef): Promise<TrainState | undefined> {
    let manifest: CheckpointManifest;
    try {
      manifest = JSON.parse(Buffer.from(await this.store.get(ref.key)).toString('utf8'));
    } catch {
      return undefined; // no manifest to say what it was
    }
    const meta = manifest.meta as { parts?: PathParts; seed?: number; codeVersion?: string; backend?: string };
    const backend = await this.backend();
    // Only this code on this backend reproduces the committed bytes; a fig4bc start is not recomputed here.
    if (!meta.parts || meta.seed === undefined || meta.codeVersion !== this.codeVersion || meta.backend !== backend)
      return;
    if (meta.parts.badStart) return undefined;
    const root = ref.key.slice(0, ref.key.length - 'manifest.json'.length).replace(/\d{12}\/$/, '');
    let from: TrainState = { step: 0, theta: this.model(meta.parts.objective.model).init(meta.seed), velocity: null };
    for (const c of await this.checkpoints.committedSteps(root)) {
      if (c.step >= ref.iteration) continue;
      const good = await this.checkpoints.tryLoad(c.manifestKey);
      if (typeof good !== 'string') {
        from = tensorsToState(good.tensors);
        break;
      }
    }
    const trainer = await this.trainer(meta.parts, meta.seed);
    const state = await trainer.run(from, ref.iteration);
    return (await this.checkpoints.restoreData(ref.key, stateToTensors(state))) ? state : undefined;
  }

  /** Commit a state under `root` at its step; with `behind`, queue the commit there and return at once. */
  async saveState(root: string, s: TrainState, meta: Record<string, unknown>, behind?: WriteBehind): Promise<StateRef> {
    const tensors = stateToTensors(s);
    let committed;
    if (behind) {
      committed = this.checkpoints.prepare(root, s.step, tensors, meta);
      behind.add(committed.write);
    } else committed = await this.checkpoints.commit(root, s.step, tensors, meta);
    const { manifest, manifestKey, bytes } = committed;
    this.recent.set(manifest.data.sha256, bytes);
    return { key: manifestKey, sha256: manifest.data.sha256, iteration: s.step };
  }

  /** A write queue whose writes {@link loadState} waits for when it must read S3. */
  writeBehind(): WriteBehind {
    return new WriteBehind((chain) => {
      this.writing.add(chain);
      void chain.finally(() => this.writing.delete(chain));
    });
  }
}
