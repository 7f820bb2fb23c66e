import { Context } from '@temporalio/activity';
import * as path from 'path';
import { publicConfig } from '../../temporal.config';
import { CheckpointStore } from '../../src/checkpoint/checkpoint-store';
import type { Tensor } from '../../src/checkpoint/safetensors';
import { DataMissingError, folderDataSource, type ImageSet } from '../../src/data/data-source';
import { backendLabel, usePreferredBackend } from '../../src/engine/backend';
import type { UnitEnv, UnitSpec } from '../../src/experiments/experiment';
import type { Params } from '../../src/experiments/params';
import { findStudy } from '../../src/experiments/registry';
import type { RunResult } from '../../src/results/run-result';
import type { ActivityDeps } from '../deps';
import { nonRetryable, rethrowAsFailure } from '../failures';
import { writeRunArtifacts } from '../run-artifacts';
import { Stopwatch } from '../stage-cache';
import { loadUnitCheckpoint, readUnitOutput, unitKey, writeUnitOutput, type UnitKey } from './unit-store';
import { pushMark, type Mark } from '../../src/runs/progress-marks';

export interface AdvanceUnitInput {
  runId: string;
  experiment: string;
  params: Params;
  seed: number;
  unit: UnitSpec;
  /** Units of earlier phases (their final states can be read by this one). */
  upstream: UnitSpec[];
  /**
   * Where the earlier phases' units were computed (the workflow records each unit's key): a unit
   * resumed on a worker of another code version or backend reads them there. Absent in histories
   * from before it existed: computed here then.
   */
  upstreamKeys?: Record<string, UnitKey>;
  noCache: boolean;
}

export interface AdvanceUnitResult {
  step: number;
  done: boolean;
  /** The worker is stopping: the unit committed where it stands; ask again (no retry spent). */
  preempted: boolean;
  cacheHit: boolean;
  computeMs: number;
  backend: string;
  /** Where the unit was computed: under this key, and only there, its output is read. */
  key?: UnitKey;
}

export interface SummarizeStudyInput {
  runId: string;
  experiment: string;
  preset: string;
  params: Params;
  seed: number;
  units: UnitSpec[];
  /** The backend each unit ran on (its results are keyed by it). */
  unitBackends: Record<string, string>;
  /** Each unit's key as its last attempt reported it (absent in histories from before it existed). */
  unitKeys?: Record<string, UnitKey>;
  wallMs: number;
  computeMs: number;
  noCache: boolean;
}

/** Heartbeat `details` every second while `work` runs (whenever the event loop gets a turn). */
async function beating<T>(
  ctx: Context,
  details: Record<string, unknown> | (() => Record<string, unknown>),
  work: () => Promise<T>,
): Promise<T> {
  const beat = setInterval(() => ctx.heartbeat(typeof details === 'function' ? details() : details), 1000);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}

/** The study runtime: plan, advance one unit durably, summarize. */
export function makeStudyActivities(deps: ActivityDeps) {
  const checkpoints = new CheckpointStore(deps.store);

  const data = folderDataSource(path.join(deps.config.dataDir, 'datasets'), deps.config.data.cifarMirror);

  /** The content identity of each data set a study reads; one that is not on this worker fails the unit at once. */
  function dataIdentities(sets: ImageSet[]): Record<string, string> {
    try {
      return Object.fromEntries(sets.map((d) => [d, data.identity(d)]));
    } catch (err) {
      if (err instanceof DataMissingError) throw nonRetryable(err.message, 'DataMissingError');
      throw err;
    }
  }

  async function backendFor(numerics: string): Promise<string> {
    if (numerics === 'float64-js') return 'float64-js';
    return backendLabel(await usePreferredBackend(deps.config.backend, deps.config.torch));
  }

  return {
    /** The units of a study run, in phases. */
    async planStudy(input: { experiment: string; params: Params }): Promise<UnitSpec[]> {
      return (await findStudy(input.experiment).open(input.params)).units;
    },

    /**
     * Run one unit to its end: resume from its newest valid checkpoint, commit one every
     * `checkpointEvery` steps, heartbeat, and on worker shutdown commit and answer `preempted`.
     * A unit whose output is already stored answers at once (a cache hit).
     */
    async advanceUnit(input: AdvanceUnitInput): Promise<AdvanceUnitResult> {
      const ctx = Context.current();
      const { unit } = input;
      const study = await findStudy(input.experiment).open(input.params);
      const program = study.program(unit);
      const backend = await backendFor(program.numerics);
      const dataIds = dataIdentities(study.datasets);
      const key = unitKey(input, unit, deps.codeVersion, backend, dataIds);
      const { root } = key;
      if ((await readUnitOutput(deps.store, key)) !== undefined) {
        return { step: unit.steps, done: true, preempted: false, cacheHit: true, computeMs: 0, backend, key };
      }
      const unitCtx: UnitEnv = {
        seed: input.seed,
        unit,
        data,
        async upstream(id: string): Promise<Record<string, Tensor>> {
          const up = input.upstream.find((u) => u.id === id);
          if (!up) throw new Error(`unit ${unit.id} reads unit '${id}', which is not of an earlier phase`);
          const upKey =
            input.upstreamKeys?.[id] ??
            unitKey(input, up, deps.codeVersion, await backendFor(study.program(up).numerics), dataIds);
          const latest = await loadUnitCheckpoint(checkpoints, upKey, (s) =>
            deps.log({ event: 'checkpoint-skipped', runId: input.runId, unit: id, ...s }),
          );
          if (!latest || latest.manifest.step !== up.steps)
            throw nonRetryable(`unit '${id}' has no final state at step ${up.steps}`, 'MissingCheckpoint');
          return latest.tensors;
        },
      };
      const sw = new Stopwatch();
      const latest = await loadUnitCheckpoint(
        checkpoints,
        key,
        (s) => deps.log({ event: 'checkpoint-skipped', runId: input.runId, unit: unit.id, ...s }),
        unit.steps,
      );
      // A fresh unit's start loads its data and may measure (fig5 on all of CIFAR-10: about a minute):
      // heartbeat through it, or the server times the attempt out before its first step.
      let state = latest
        ? program.load(latest.tensors)
        : await beating(ctx, { unit: unit.id, step: 0, stage: 'init' }, () => sw.time(() => program.init(unitCtx)));
      deps.log({
        event: 'resume',
        runId: input.runId,
        unit: unit.id,
        step: program.step(state),
        attempt: ctx.info.attempt,
      });
      const meta = {
        identity: key.identity,
        runId: input.runId,
        experiment: input.experiment,
        unit,
        seed: input.seed,
        backend,
        codeVersion: deps.codeVersion,
        config: publicConfig(deps.config),
      };
      const stopping = (): boolean => deps.stopping.aborted || ctx.cancellationSignal.aborted;
      // When this attempt reached which step (at most one mark a second): `repro status` reads the
      // unit's rate over a window from one heartbeat, as the live view measures it.
      const marks: Mark[] = [];
      const mark = (step: number): Mark[] => {
        const now = Date.now();
        if (!marks.length || now - marks.at(-1)![0] >= 1000 || step >= unit.steps) pushMark(marks, now, step);
        return marks;
      };
      mark(program.step(state));
      try {
        while (program.step(state) < unit.steps) {
          const at = program.step(state);
          const target = Math.min(unit.steps, (Math.floor(at / unit.checkpointEvery) + 1) * unit.checkpointEvery);
          const from = state;
          // Between steps too: a segment may load data or find an eigenvector (fig6) before its first step.
          let current = at;
          state = await beating(
            ctx,
            () => ({ unit: unit.id, step: current, marks: mark(current) }),
            () =>
              sw.time(() =>
                program.advance(unitCtx, from, target, {
                  shouldStop: stopping,
                  onStep: (step) => {
                    current = step;
                    ctx.heartbeat({ unit: unit.id, step, marks: mark(step) });
                  },
                }),
              ),
          );
          await checkpoints.commit(root, program.step(state), program.save(state), meta);
          deps.log({ event: 'checkpoint', runId: input.runId, unit: unit.id, step: program.step(state), root });
          // The newest two are kept: a newest that fails to verify falls back to the one before.
          await checkpoints.prune(root, at);
          ctx.heartbeat({ unit: unit.id, step: program.step(state), marks: mark(program.step(state)) });
          if (stopping()) {
            if (ctx.cancellationSignal.aborted && !deps.stopping.aborted) {
              deps.log({ event: 'cancelled', runId: input.runId, unit: unit.id, step: program.step(state) });
              throw ctx.cancellationSignal.reason;
            }
            deps.log({ event: 'preempted', runId: input.runId, unit: unit.id, step: program.step(state) });
            return {
              step: program.step(state),
              done: false,
              preempted: true,
              cacheHit: false,
              computeMs: sw.ms,
              backend,
              key,
            };
          }
        }
      } catch (err) {
        rethrowAsFailure(err);
      }
      // The final measurements (an exact CS, a trace) can take minutes: keep heartbeating through
      // them, or the server would time the attempt out and start a second one beside it.
      const output = await beating(ctx, { unit: unit.id, step: unit.steps, stage: 'output' }, () =>
        sw.time(() => program.output(unitCtx, state)),
      );
      await writeUnitOutput(deps.store, key, output);
      return { step: unit.steps, done: true, preempted: false, cacheHit: false, computeMs: sw.ms, backend, key };
    },

    /** Read every unit's output, check the claims, write the figures, report and result. */
    async summarizeStudy(input: SummarizeStudyInput): Promise<RunResult> {
      const experiment = findStudy(input.experiment);
      const study = await experiment.open(input.params);
      const outputs: Record<string, unknown> = {};
      for (const unit of input.units) {
        const key =
          input.unitKeys?.[unit.id] ??
          unitKey(input, unit, deps.codeVersion, input.unitBackends[unit.id] ?? 'float64-js');
        const out = await readUnitOutput(deps.store, key);
        if (out === undefined) {
          throw nonRetryable(
            `unit '${unit.id}' of run ${input.runId} has no output at ${key.root}`,
            'MissingCheckpoint',
          );
        }
        outputs[unit.id] = out;
      }
      const analysis = study.analyze(outputs, input.seed);
      const base = {
        runId: input.runId,
        experiment: input.experiment,
        preset: input.preset,
        status: 'completed' as const,
        params: input.params,
        seed: input.seed,
        backends: [...new Set(Object.values(input.unitBackends))].sort(),
        claims: analysis.claims,
        substitutions: experiment.substitutions(input.params),
        codeVersion: deps.codeVersion,
        finishedAt: new Date().toISOString(),
        summary: {
          ...analysis.summary,
          units: input.units.length,
          time: { wallSeconds: Math.round(input.wallMs) / 1000, computeSeconds: Math.round(input.computeMs) / 1000 },
        },
      };
      const result = await writeRunArtifacts(deps, base, experiment.title, analysis.figures, [
        { name: 'outputs.json', body: JSON.stringify(outputs), contentType: 'application/json' },
      ]);
      deps.log({
        event: 'summarized',
        runId: input.runId,
        verdicts: analysis.claims.map((c) => `${c.id}:${c.verdict}`),
      });
      return result;
    },
  };
}
