import type { PathParts } from '../../src/experiments/projected-path/parts';
import { zeroCompute, type StageComputeMs } from '../../src/experiments/projected-path/rows';
import { projectedPath, type PathCounts, type PathOracle, type PathPoint } from '../../src/landscape/projected-path';
import { readCached, writeCached, type Preempted } from '../stage-cache';
import type { makeCheckConnected } from './check-connected';
import type { makeProjectState } from './project-state';
import type { makeReplayState } from './replay-state';
import { segmentInputs, stageKeyInputs, type Minimum, type StageKit } from './stage';
import type { SegmentAnswer } from './composite-cache';
import type { StateRef } from './workspace';

/** A whole epoch pair's bisection, as one activity answers it. */
export interface SegmentOutcome extends SegmentAnswer {
  /** The whole bisection came from the segment cache. */
  cacheHit: boolean;
  /** Stages inside it answered from their own caches (0 on a whole-segment hit). */
  stageCacheHits: number;
  computeMs: StageComputeMs;
}

export interface BisectSegmentInput {
  runId: string;
  seed: number;
  parts: PathParts;
  a: StateRef;
  b: StateRef;
  /** The backend the seed's trajectory is keyed by: the segment's cache entry is keyed by it. */
  backend: string;
  checkpointEvery: number;
  noCache: boolean;
}

/** Thrown out of the bisection when a stage hands back half done (the worker is stopping). */
class HandedBack extends Error {}

/**
 * The bisection between two consecutive epoch states (EXPERIMENTS.md, section 2.1.1) in one
 * activity: project both, line-check, replay and project midpoints until every pair is connected.
 * Each stage runs exactly as its own activity would (content-keyed cache, GD checkpoints, the
 * same answers), one after the other on this worker, so a killed attempt recomputes only the
 * stage in flight and any whose commits had not landed yet (the retry finds the others in the
 * cache), and a stopping worker hands the segment back at the stage it was in (a projection
 * committed where it stands). A stage's commits (its minimum, its answer) are written while the
 * next stage computes, in order, and have all landed before the activity answers. What it saves
 * is Temporal's round trips and the S3 writes' latency per stage: on the small presets a stage's
 * numerics take tens of milliseconds, about what scheduling it as an activity of its own cost.
 */
export function makeBisectSegment(
  kit: StageKit,
  stages: {
    projectState: ReturnType<typeof makeProjectState>;
    replayState: ReturnType<typeof makeReplayState>;
    checkConnected: ReturnType<typeof makeCheckConnected>;
  },
) {
  return async function bisectSegment(
    input: BisectSegmentInput,
  ): Promise<SegmentOutcome | (Preempted & { computeMs: StageComputeMs })> {
    const { runId, seed, parts, a, b, noCache } = input;
    const segmentKey = stageKeyInputs('segment', parts, segmentInputs(seed, a, b), kit.deps.codeVersion, input.backend);
    const computeMs = zeroCompute();
    if (!noCache) {
      const known = await readCached<SegmentAnswer>(kit.ws.store, 'segment', segmentKey);
      if (known) return { ...known, cacheHit: true, stageCacheHits: 0, computeMs };
    }
    let stageCacheHits = 0;
    const backends = new Set<string>();
    const note = <T>(
      stage: keyof StageComputeMs,
      r: { computeMs: number } & ({ preempted: true } | { value: T; cacheHit: boolean; backend: string }),
    ): T => {
      computeMs[stage] += r.computeMs;
      if ('preempted' in r) throw new HandedBack();
      if (r.cacheHit) stageCacheHits++;
      backends.add(r.backend);
      return r.value;
    };
    // Each stage's commits trail the next stage's numerics; all have landed when this answers.
    const behind = kit.ws.writeBehind();
    const opts = { behind };
    // Once a stage fails or hands back, the bisection's queued stages must not start after this
    // activity has answered: each asks first.
    let halted = false;
    const guarded = async <T>(stage: () => Promise<T>): Promise<T> => {
      if (halted) throw new HandedBack();
      try {
        return await stage();
      } catch (err) {
        halted = true;
        throw err;
      }
    };
    const oracle: PathOracle<StateRef, Minimum> = {
      replay: (from, to) =>
        guarded(async () =>
          note(
            'replay',
            await stages.replayState(
              {
                runId,
                seed,
                parts,
                from: from.state,
                toIteration: to,
                checkpointEvery: input.checkpointEvery,
                noCache,
              },
              opts,
            ),
          ),
        ),
      project: (state) =>
        guarded(async () => note('project', await stages.projectState({ runId, parts, state, noCache }, opts))),
      connected: (x, y) =>
        guarded(async () =>
          note('line', await stages.checkConnected({ parts, a: x.minimum, b: y.minimum, noCache }, opts)),
        ),
    };
    let found: { path: Array<PathPoint<StateRef, Minimum>>; counts: PathCounts };
    try {
      // One stage at a time: they share this worker's one numeric thread.
      found = await projectedPath(
        oracle,
        [
          { iteration: a.iteration, state: a },
          { iteration: b.iteration, state: b },
        ],
        { window: 1 },
      );
      await behind.flush();
    } catch (err) {
      if (err instanceof HandedBack) {
        await behind.flush();
        return { preempted: true, computeMs };
      }
      await behind.flush().catch(() => {}); // what was computed before the failure still lands
      throw err;
    }
    const answer: SegmentAnswer = { points: found.path, counts: found.counts, backends: [...backends].sort() };
    await writeCached(kit.ws.store, 'segment', segmentKey, answer);
    return { ...answer, cacheHit: false, stageCacheHits, computeMs };
  };
}
