import { signClaim } from '../../results/claims';
import { lineFigure } from '../../report/figures';
import { meanInterval } from '../../stats/statistics';
import type { Analysis } from '../experiment';
import { fig2cdToy, meanFieldPath, spectrumAt, type ToyNoise } from '../toys/valley-toy';
import type { Fig2cdParams } from './definition';

/** What a unit (one noise structure) reports. */
export interface Fig2cdOutput {
  kind: ToyNoise;
  dTrace: number[];
  dLogdet: number[];
  /** Mean over runs at the recorded steps. */
  at: number[];
  trace: number[];
  logdet: number[];
}

const CONFIDENCE = 0.95;

/** The change of trace and log det over a run along the mean-field path, from theory at the run's settings. */
export function theoryChange(p: Fig2cdParams, kind: ToyNoise): { trace: number; logdet: number } {
  const phi0 = p.theta0 as [number, number];
  const a = spectrumAt(fig2cdToy, { step: 0, theta: [0, 0, ...phi0] });
  const b = spectrumAt(fig2cdToy, meanFieldPath(fig2cdToy, phi0, { lr: p.lr, noise: p.noise, kind }, p.steps));
  return { trace: b.trace - a.trace, logdet: b.logdet - a.logdet };
}

/**
 * fig2c/d's claims: under SGD-like noise (c·H) the trace falls (Theorem 1), under isotropic noise
 * (c·I) log det falls (Corollary 2.1), each a 95% Student-t interval over runs below zero; and the
 * other quantity of each run moves the way theory says at the run's settings (the mean-field path
 * of Theorem 2's drift), which at the default start is up: the two quantities move apart.
 */
export function fig2cdAnalysis(p: Fig2cdParams, outputs: Record<'sgd' | 'isotropic', Fig2cdOutput>): Analysis {
  const sgd = outputs.sgd,
    iso = outputs.isotropic;
  const change = (xs: number[]) => meanInterval(xs, CONFIDENCE);
  const theory = { sgd: theoryChange(p, 'sgd'), isotropic: theoryChange(p, 'isotropic') };
  const side = (v: number): 'negative' | 'positive' => (v < 0 ? 'negative' : 'positive');
  const claim = (id: string, description: string, paper: string, xs: number[], predicted: number, lowered: boolean) => {
    const m = change(xs);
    return signClaim({
      id,
      description:
        `${description} (mean change over ${p.steps} steps, ${xs.length} runs; ` +
        `theory along the mean-field path: ${predicted.toPrecision(3)})`,
      paper,
      side: lowered ? 'negative' : side(predicted),
      measured: m.mean,
      interval: m.interval,
      inconclusiveBecause:
        !lowered && Math.abs(predicted) < 1e-9
          ? 'theory predicts no change of this quantity here: choose another theta0'
          : undefined,
    });
  };
  const claims = [
    claim(
      'sgd-noise-lowers-trace',
      'with noise c·H the Hessian trace falls',
      'fig. 2(c); Theorem 1',
      sgd.dTrace,
      theory.sgd.trace,
      true,
    ),
    claim(
      'isotropic-noise-lowers-logdet',
      'with noise c·I the log-determinant of the non-degenerate Hessian falls',
      'fig. 2(d); Corollary 2.1',
      iso.dLogdet,
      theory.isotropic.logdet,
      true,
    ),
    claim(
      'sgd-logdet-direction',
      `with noise c·H log det moves ${theory.sgd.logdet > 0 ? 'up' : 'down'}, as theory predicts here`,
      'fig. 2(c, d); Theorem 2',
      sgd.dLogdet,
      theory.sgd.logdet,
      false,
    ),
    claim(
      'isotropic-trace-direction',
      `with noise c·I the trace moves ${theory.isotropic.trace > 0 ? 'up' : 'down'}, as theory predicts here`,
      'fig. 2(c, d); Theorem 2',
      iso.dTrace,
      theory.isotropic.trace,
      false,
    ),
  ];
  const rows = (q: 'trace' | 'logdet') =>
    [sgd, iso].flatMap((o) =>
      o.at.map((step, i) => ({
        step,
        value: o[q][i]!,
        noise: o.kind === 'sgd' ? 'c·H (SGD-like)' : 'c·I (isotropic)',
      })),
    );
  return {
    claims,
    figures: [
      lineFigure({
        id: 'fig2c-trace',
        title: 'Hessian trace against step (fig. 2c)',
        caption: `Mean over ${p.repeats} runs from θ3, θ4 = ${p.theta0.join(', ')}.`,
        data: rows('trace'),
        x: { field: 'step', title: 'step' },
        y: { field: 'value', title: 'trace' },
        series: 'noise',
      }),
      lineFigure({
        id: 'fig2d-logdet',
        title: 'log det of the non-degenerate Hessian against step (fig. 2d)',
        caption: `Mean over ${p.repeats} runs.`,
        data: rows('logdet'),
        x: { field: 'step', title: 'step' },
        y: { field: 'value', title: 'log det' },
        series: 'noise',
      }),
    ],
    summary: {
      theory,
      measured: {
        sgd: { trace: change(sgd.dTrace).mean, logdet: change(sgd.dLogdet).mean },
        isotropic: { trace: change(iso.dTrace).mean, logdet: change(iso.dLogdet).mean },
      },
    },
  };
}
