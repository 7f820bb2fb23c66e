import { ApplicationFailure } from '@temporalio/activity';
import { CheckpointStore } from '../src/checkpoint/checkpoint-store';
import { fig7Claims } from '../src/experiments/fig7/analysis';
import { VARIANTS, type Samples } from '../src/experiments/fig7/toy';
import { findExperiment } from '../src/experiments/registry';
import { renderReport } from '../src/report/claims-report';
import { renderLinePlot } from '../src/report/svg-plot';
import type { RunResult } from '../src/results/run-result';
import { fromTensors } from './advance-toy-trajectory';
import { keys, type ActivityDeps } from './deps';
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
      const latest = await checkpoints.loadLatest(keys.checkpoints(runId, variant), (s) => deps.log({ event: 'checkpoint-skipped', runId, variant, ...s }));
      if (!latest || latest.manifest.step !== params.steps) {
        throw ApplicationFailure.nonRetryable(`fig7 ${variant} trajectory of run ${runId} has no valid checkpoint at step ${params.steps} (latest: ${latest?.manifest.step ?? 'none'})`, 'MissingCheckpoint');
      }
      const s = fromTensors(latest.tensors);
      finals[variant] = { theta: [s.theta1, s.theta2], samples: s.samples, checkpoint: deps.store.url(latest.manifestKey) };
    }
    const gd = finals.gd!, noisy = finals.noisy!;
    const claims = fig7Claims(params, gd.samples, noisy.samples);

    const predicted = (-2 * params.alpha) / (params.lr * params.noise);
    const svg = renderLinePlot({
      title: `fig7: θ2 under GD and GD + noise c·H (α=${params.alpha}, η=${params.lr}, c=${params.noise})`,
      xLabel: 'step', yLabel: 'θ2',
      series: [
        { label: 'GD', x: gd.samples.step, y: gd.samples.theta2, color: '#d62728' },
        { label: 'GD + noise c·H', x: noisy.samples.step, y: noisy.samples.theta2, color: '#1f77b4' },
        { label: '−2α/(ηc)', x: [0, params.steps], y: [predicted, predicted], color: '#555', dashed: true },
      ],
    });
    const plotKey = keys.artifact(runId, 'fig7-theta2.svg');
    const trajectoriesKey = keys.artifact(runId, 'trajectories.json');
    const reportKey = keys.artifact(runId, 'report.md');
    const experiment = findExperiment(input.experiment);
    const base: Omit<RunResult, 'artifacts'> = {
      runId, experiment: input.experiment, preset: input.preset, status: 'completed',
      params: params as unknown as Record<string, unknown>, seed: input.seed, backends: ['float64-js'], claims,
      summary: {
        final: { gd: gd.theta, noisy: noisy.theta },
        checkpoints: { gd: gd.checkpoint, noisy: noisy.checkpoint },
      },
      codeVersion: deps.codeVersion, finishedAt: new Date().toISOString(),
    };
    await deps.store.put(trajectoriesKey, Buffer.from(JSON.stringify({ gd: gd.samples, noisy: noisy.samples })), 'application/json');
    await deps.store.put(plotKey, Buffer.from(svg), 'image/svg+xml');
    await deps.store.put(reportKey, Buffer.from(renderReport(base, experiment.title, [{ file: 'fig7-theta2.svg', caption: 'θ2 against step; dashed: the predicted equilibrium of the noisy run' }])), 'text/markdown');
    const result: RunResult = {
      ...base,
      artifacts: {
        result: deps.store.url(keys.result(runId)), report: deps.store.url(reportKey),
        plot: deps.store.url(plotKey), trajectories: deps.store.url(trajectoriesKey),
      },
    };
    // The result object goes last: its presence means every artifact above is complete.
    await deps.store.put(keys.result(runId), Buffer.from(JSON.stringify(result, null, 2)), 'application/json');
    deps.log({ event: 'summarized', runId, verdicts: claims.map((c) => `${c.id}:${c.verdict}`) });
    return result;
  };
}
