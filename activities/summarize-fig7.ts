import { ApplicationFailure } from '@temporalio/activity';
import { CheckpointStore } from '../src/checkpoint/checkpoint-store';
import { fig7Claims, noisyEquilibrium } from '../src/experiments/fig7/analysis';
import { VARIANTS, type Samples } from '../src/experiments/fig7/toy';
import { findExperiment } from '../src/experiments/registry';
import { lineFigure } from '../src/report/figures';
import type { RunResult } from '../src/results/run-result';
import { fromTensors } from './advance-toy-trajectory';
import { keys, type ActivityDeps } from './deps';
import { writeRunArtifacts } from './run-artifacts';
import type { SummarizeFig7Input } from './types';

/**
 * Read both finished trajectories, check the claims, and write the artifacts (trajectories,
 * plot, report, result) to the store. Idempotent: a retry rewrites the same objects.
 */
export function makeSummarizeFig7(deps: ActivityDeps) {
  const checkpoints = new CheckpointStore(deps.store);
  return async function summarizeFig7(input: SummarizeFig7Input): Promise<RunResult> {
    const { runId, params } = input;
    const finals: Record<string, { theta: [number, number]; samples: Samples; checkpoint: string }> = {};
    for (const variant of VARIANTS) {
      const latest = await checkpoints.loadLatest(keys.checkpoints(runId, variant), (s) =>
        deps.log({ event: 'checkpoint-skipped', runId, variant, ...s }),
      );
      if (!latest || latest.manifest.step !== params.steps) {
        throw ApplicationFailure.nonRetryable(
          `fig7 ${variant} trajectory of run ${runId} has no valid checkpoint at step ${params.steps} (latest: ${latest?.manifest.step ?? 'none'})`,
          'MissingCheckpoint',
        );
      }
      const s = fromTensors(latest.tensors);
      finals[variant] = {
        theta: [s.theta1, s.theta2],
        samples: s.samples,
        checkpoint: deps.store.url(latest.manifestKey),
      };
    }
    const gd = finals.gd!,
      noisy = finals.noisy!;
    const claims = fig7Claims(params, gd.samples, noisy.samples);

    const theory = noisyEquilibrium(params);
    const stride = Math.max(1, Math.ceil(gd.samples.step.length / 1000));
    const rows = (['gd', 'noisy'] as const).flatMap((v) => {
      const t = finals[v]!.samples;
      return t.step
        .filter((_, i) => i % stride === 0)
        .map((step, k) => ({ step, theta2: t.theta2[k * stride]!, run: v === 'gd' ? 'GD' : 'GD + noise c·H' }));
    });
    const figure = lineFigure({
      id: 'fig7-theta2',
      title: `θ2 under GD and GD + noise c·H (α=${params.alpha}, η=${params.lr}, c=${params.noise})`,
      caption:
        'θ2 against step; the noisy run settles at the predicted equilibrium (dashed), GD keeps sliding down the slope.',
      data: rows,
      x: { field: 'step', title: 'step' },
      y: { field: 'theta2', title: 'θ2' },
      series: 'run',
      rules: [{ y: theory.theta2, label: `predicted ${theory.theta2.toPrecision(3)}` }],
    });
    const experiment = findExperiment(input.experiment);
    const base: Omit<RunResult, 'artifacts'> = {
      runId,
      experiment: input.experiment,
      preset: input.preset,
      status: 'completed',
      params: params as unknown as Record<string, unknown>,
      seed: input.seed,
      backends: ['float64-js'],
      claims,
      substitutions: [],
      summary: {
        final: { gd: gd.theta, noisy: noisy.theta },
        checkpoints: { gd: gd.checkpoint, noisy: noisy.checkpoint },
      },
      codeVersion: deps.codeVersion,
      finishedAt: new Date().toISOString(),
    };
    const result = await writeRunArtifacts(
      deps,
      base,
      experiment.title,
      [figure],
      [
        {
          name: 'trajectories.json',
          body: JSON.stringify({ gd: gd.samples, noisy: noisy.samples }),
          contentType: 'application/json',
        },
      ],
    );
    deps.log({ event: 'summarized', runId, verdicts: claims.map((c) => `${c.id}:${c.verdict}`) });
    return result;
  };
}
