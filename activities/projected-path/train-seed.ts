import { performance } from 'perf_hooks';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { publicConfig } from '../../temporal.config';
import type { CheckpointManifest, CheckpointStore } from '../../src/checkpoint/checkpoint-store';
import { stageIdentity, type PathParts } from '../../src/experiments/projected-path/parts';
import { layout } from '../../src/storage/layout';
import type { ActivityDeps } from '../deps';
import { nonRetryable, rethrowAsFailure } from '../failures';
import { contentKey } from '../stage-cache';
import { tensorsToState } from '../../src/train/state-tensors';
import { evaluateLoss } from '../../src/landscape/landscape';
import type { PathWorkspace, StateRef } from './workspace';

export interface TrainSeedInput {
  runId: string;
  seed: number;
  parts: PathParts;
  untilEpoch: number;
  /** Extra checkpoints every K iterations inside an epoch (0: epoch boundaries only). */
  checkpointEvery: number;
  /** Train under the run's own prefix instead of the shared, content-keyed one. */
  noCache: boolean;
  /** The newest epoch iteration the caller already holds (-1: none); only later ones come back. */
  knownIteration: number;
  /** A state to start from instead of fresh weights (fig4bc's bad minimum), at iteration 0. */
  start?: StateRef | null;
  /**
   * The trajectory this seed is pinned to (the key of its first answer). A worker of another code
   * version or backend serves it only from what is committed there, else hands the call to a
   * worker that computes it (a retryable `OtherTrajectoryKey`): epochs of two trajectories are
   * never spliced. Absent: the worker's own key.
   */
  pin?: TrainingKey;
}

export interface TrainSeedResult {
  /** Where this seed's checkpoints live. */
  root: string;
  /** The trajectory the epochs belong to (root, identity, backend). */
  key?: TrainingKey;
  epoch: number;
  stepsPerEpoch: number;
  trainSteps: number;
  resumedFrom: number;
  preempted: boolean;
  /** Milliseconds spent in SGD steps (0 when every epoch was already committed). */
  computeMs: number;
  /** Committed states at epoch boundaries after `knownIteration`, up to `untilEpoch`; epoch 0 is the initialization. */
  epochs: StateRef[];
  /** Each of those states' full-batch training loss (null for a checkpoint committed before it was recorded). */
  epochLosses?: Array<number | null>;
  /** The numeric backend the trajectory is keyed by and trained on. */
  backend: string;
}

type Committed = Awaited<ReturnType<CheckpointStore['committedSteps']>>;

/** Attempts a call pinned to another trajectory is offered to other workers before the workflow starts over. */
const OTHER_KEY_ATTEMPTS = 4;

/** A trajectory: where its checkpoints live, the identity they carry, the backend that computes it. */
export interface TrainingKey {
  root: string;
  identity: string;
  backend: string;
  /** The content hash of the data it trains on (absent in older histories): later stages' parts carry it. */
  data?: string;
}

/**
 * Where a seed trains. Training is deterministic, so by default its checkpoints live under a
 * content key of the trajectory (its parts, seed, start, code version and backend): a re-run, or
 * a longer run of the same trajectory, resumes from what is committed there. `--no-cache` trains
 * afresh under the run's own prefix, still one folder per trajectory key.
 */
export function trainKey(
  input: { runId: string; seed: number; parts: PathParts; noCache: boolean; start?: StateRef | null },
  codeVersion: string,
  backend: string,
): TrainingKey {
  const inputs = { seed: input.seed, ...(input.start ? { start: input.start.sha256 } : {}) };
  const identity = contentKey('train', stageIdentity('train', input.parts, inputs, { code: codeVersion, backend }));
  const root = input.noCache
    ? `${layout.runTraining(input.runId, input.seed)}${identity.slice(0, 16)}/`
    : layout.cacheFolder('train', identity);
  const data = input.parts.objective.data;
  return { root, identity, backend, ...(data ? { data } : {}) };
}

/**
 * Train one seed with SGD up to an epoch: resume from the newest valid checkpoint, commit one at
 * every epoch boundary (and every `checkpointEvery` iterations), heartbeat, and on worker
 * shutdown or cancellation commit where it stands first. When the epochs asked for are already
 * committed it reads manifests only: no data, no model, no numerics.
 */
export function makeTrainSeed(deps: ActivityDeps, ws: PathWorkspace) {
  const readManifest = async (key: string): Promise<CheckpointManifest> =>
    JSON.parse(Buffer.from(await ws.store.get(key)).toString('utf8'));

  /** A checkpoint of another trajectory than the one asked for: never resumed, never returned. */
  const mismatch = (key: TrainingKey, found: unknown): Error =>
    nonRetryable(
      `training checkpoint under ${key.root} belongs to another trajectory ` +
        `(identity ${String(found).slice(0, 12)}…, ` +
        `expected ${key.identity.slice(0, 12)}…); remove it or run with a new id`,
      'InputMismatch',
    );

  /** Epoch-boundary states in (known, until], from their manifests (each checked to be of the trajectory). */
  async function epochRefs(
    committed: Committed,
    spe: number,
    known: number,
    until: number,
    key: TrainingKey,
  ): Promise<{ epochs: StateRef[]; epochLosses: Array<number | null> }> {
    const wanted = committed.filter((c) => c.step % spe === 0 && c.step > known && c.step <= until);
    const refs = await Promise.all(
      wanted.map(async (c) => {
        const manifest = await readManifest(c.manifestKey);
        if (manifest.meta.identity !== key.identity) throw mismatch(key, manifest.meta.identity);
        const loss = typeof manifest.meta.trainLoss === 'number' ? manifest.meta.trainLoss : null;
        return { ref: { key: c.manifestKey, sha256: manifest.data.sha256, iteration: c.step }, loss };
      }),
    );
    refs.sort((a, b) => a.ref.iteration - b.ref.iteration);
    return { epochs: refs.map((r) => r.ref), epochLosses: refs.map((r) => r.loss) };
  }

  /** The committed progress of a trajectory, if its newest manifest says how long an epoch is. */
  async function committedProgress(
    committed: Committed,
    runId: string,
  ): Promise<{ step: number; stepsPerEpoch: number; identity: unknown } | undefined> {
    const newest = committed[0];
    if (!newest) return undefined;
    const manifest = await readManifest(newest.manifestKey).catch((err: Error) => {
      // A bad manifest: the slow path below loads the newest good checkpoint instead.
      deps.log({
        event: 'checkpoint-skipped',
        runId,
        manifestKey: newest.manifestKey,
        reason: `unreadable manifest: ${err.message}`,
      });
      return undefined;
    });
    const spe = manifest?.meta?.stepsPerEpoch;
    return typeof spe === 'number' && manifest
      ? { step: manifest.step, stepsPerEpoch: spe, identity: manifest.meta.identity }
      : undefined;
  }

  return async function trainSeed(input: TrainSeedInput): Promise<TrainSeedResult> {
    // A heartbeat every quarter second through all of it, not only the SGD steps: hashing the
    // data, each epoch boundary's full-batch training loss and the checkpoint writes take time too.
    const ctx = Context.current();
    let details: unknown = { stage: 'train' };
    ctx.heartbeat(details);
    const ticker = setInterval(() => ctx.heartbeat(details), 250);
    try {
      return await train(input, (d) => {
        details = d;
        ctx.heartbeat(d);
      });
    } finally {
      clearInterval(ticker);
    }
  };

  async function train(input: TrainSeedInput, heartbeat: (details: unknown) => void): Promise<TrainSeedResult> {
    const ctx = Context.current();
    const { runId, seed } = input;
    // The trajectory's key names its data by content; later stages get the hash with the epochs.
    const parts = await ws.withDataHash(input.parts);
    const own = trainKey({ ...input, parts }, deps.codeVersion, await ws.backend());
    const key = input.pin ?? own;
    const { root, backend } = key;
    const committed = await ws.checkpoints.committedSteps(root); // one listing serves the cached path
    const done = await committedProgress(committed, runId);
    if (done && done.identity !== key.identity) throw mismatch(key, done.identity);
    if (done && done.step >= input.untilEpoch * done.stepsPerEpoch) {
      const until = input.untilEpoch * done.stepsPerEpoch;
      deps.log({ event: 'train-cached', runId, seed, root, step: until });
      return {
        root,
        key,
        epoch: input.untilEpoch,
        stepsPerEpoch: done.stepsPerEpoch,
        trainSteps: 0,
        resumedFrom: until,
        preempted: false,
        computeMs: 0,
        ...(await epochRefs(committed, done.stepsPerEpoch, input.knownIteration, until, key)),
        backend,
      };
    }
    if (key.identity !== own.identity) {
      // Pinned to a trajectory this worker (another code version or backend) would not reproduce:
      // let a worker that computes it take the call; if none is left, the workflow starts over.
      // A few attempts give a worker of the pinned kind the chance to take it (retries land on any
      // worker); then the workflow is told, and starts the seed over.
      throw ApplicationFailure.create({
        message:
          `seed ${seed} trains trajectory ${key.identity.slice(0, 12)}… on ${key.backend}; this worker would ` +
          `train ${own.identity.slice(0, 12)}… on ${own.backend}`,
        type: 'OtherTrajectoryKey',
        nonRetryable: ctx.info.attempt >= OTHER_KEY_ATTEMPTS,
      });
    }

    const trainer = await ws.trainer(parts, seed);
    const spe = trainer.stepsPerEpoch;
    const until = input.untilEpoch * spe;
    const latest = await ws.checkpoints.loadLatest(
      root,
      (s) => deps.log({ event: 'checkpoint-skipped', runId, seed, ...s }),
      until,
    );
    if (latest && latest.manifest.meta.identity !== key.identity) throw mismatch(key, latest.manifest.meta.identity);
    const fresh = async () =>
      input.start
        ? { ...(await ws.loadState(input.start)), step: 0, velocity: null }
        : { step: 0, theta: ws.model(parts.objective.model).init(seed), velocity: null };
    let state = latest ? tensorsToState(latest.tensors) : await fresh();
    const meta = {
      identity: key.identity,
      runId,
      seed,
      parts,
      stepsPerEpoch: spe,
      backend,
      codeVersion: deps.codeVersion,
      config: publicConfig(deps.config),
      rng: { algorithm: 'philox4x32-10', seed },
    };
    // Each epoch boundary's full training loss goes into its manifest: the paper's threshold is the
    // lowest of them (the seed's minimal SGD training loss), read back with the references.
    const { train } = await ws.objectives(parts.objective);
    let computeMs = 0;
    const epochMeta = async (s: typeof state): Promise<Record<string, unknown>> => {
      if (s.step % spe !== 0) return meta;
      const t0 = performance.now();
      const trainLoss = await evaluateLoss(train, s.theta).catch(rethrowAsFailure);
      computeMs += performance.now() - t0;
      return { ...meta, trainLoss };
    };
    // The epoch boundaries this attempt commits, as it commits them: not read back from S3.
    const mine = new Map<number, { ref: StateRef; loss: number | null }>();
    const save = async (s: typeof state): Promise<void> => {
      const m = await epochMeta(s);
      const ref = await ws.saveState(root, s, m);
      if (s.step % spe === 0) mine.set(s.step, { ref, loss: typeof m.trainLoss === 'number' ? m.trainLoss : null });
    };
    if (!latest) await save(state);
    const resumedFrom = state.step;
    // Older in-epoch checkpoints to prune: any left before this attempt, then only after one of its own.
    let prunable = true;
    deps.log({ event: 'resume', runId, seed, root, step: resumedFrom, attempt: ctx.info.attempt });
    let preempted = false;
    while (state.step < until) {
      const nextEpoch = (Math.floor(state.step / spe) + 1) * spe;
      const every = input.checkpointEvery;
      const nextExtra = every ? (Math.floor(state.step / every) + 1) * every : Infinity;
      const target = Math.min(until, nextEpoch, nextExtra);
      let stop = false;
      const t0 = performance.now();
      try {
        state = await trainer.run(state, target, {
          yieldEvery: 1,
          onStep: (step, loss) => heartbeat({ step, loss }),
          shouldStop: () => (stop = deps.stopping.aborted || ctx.cancellationSignal.aborted),
        });
      } catch (err) {
        rethrowAsFailure(err);
      } finally {
        computeMs += performance.now() - t0;
      }
      await save(state);
      deps.log({ event: 'checkpoint', runId, seed, root, step: state.step });
      // Epoch boundaries are the path's inputs; an older in-epoch checkpoint is never resumed from.
      if (prunable) await ws.checkpoints.prune(root, state.step, (step) => step % spe === 0);
      prunable = state.step % spe !== 0;
      if (stop) {
        if (ctx.cancellationSignal.aborted && !deps.stopping.aborted) throw ctx.cancellationSignal.reason;
        preempted = true;
        deps.log({ event: 'preempted', runId, seed, step: state.step });
        break;
      }
    }
    // Epochs committed before this attempt from their manifests (a listing and a read each), its own as saved.
    const lastEarlier = mine.has(resumedFrom) ? resumedFrom - 1 : resumedFrom;
    const earlier =
      input.knownIteration < lastEarlier
        ? await epochRefs(await ws.checkpoints.committedSteps(root), spe, input.knownIteration, lastEarlier, key)
        : { epochs: [], epochLosses: [] };
    // Committed in rising order: the map keeps it.
    const saved = [...mine].filter(([step]) => step > input.knownIteration).map(([, r]) => r);
    const epochs = [...earlier.epochs, ...saved.map((r) => r.ref)];
    const epochLosses = [...earlier.epochLosses, ...saved.map((r) => r.loss)];
    return {
      root,
      key,
      epoch: Math.floor(state.step / spe),
      stepsPerEpoch: spe,
      trainSteps: state.step - resumedFrom,
      resumedFrom,
      preempted,
      computeMs,
      epochs,
      epochLosses,
      backend,
    };
  }
}
