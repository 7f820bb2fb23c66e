import { boundClaim } from '../../results/claims';
import { lineFigure } from '../../report/figures';
import type { StudyAnalysis } from '../study';
import type { Fig6Params } from './definition';
import type { Fig6Output } from './study';

/**
 * fig6's claims, at the last epoch: projected on the top Hessian eigenvector, Yaida's relation
 * ⟨O_L⟩ = ⟨O_R⟩ holds to the paper's bound (the fast direction has equilibrated), and in the
 * full space it does not (the slow directions have not).
 */
export function fig6Analysis(p: Fig6Params, out: Fig6Output): StudyAnalysis {
  const last = out.epochs.at(-1);
  const none = last ? undefined : 'no epoch finished';
  const claims = [
    boundClaim({
      id: 'fdr-top1-stationary', kind: 'below', bound: p.bound,
      description: `along the top-1 Hessian eigenvector, |⟨O_L⟩/⟨O_R⟩ − 1| is below ${p.bound} after ${p.epochs} epochs (averages over the latter half of the epoch)`,
      paper: 'fig. 6', measured: last?.projected.deviation ?? NaN, inconclusiveBecause: none,
    }),
    boundClaim({
      id: 'fdr-full-not-stationary', kind: 'above', bound: p.bound,
      description: `in the full parameter space, |⟨O_L⟩/⟨O_R⟩ − 1| stays above ${p.bound} over the same steps: the slow directions have not equilibrated`,
      paper: 'fig. 6', measured: last?.full.deviation ?? NaN, inconclusiveBecause: none,
    }),
  ];
  const rows = out.epochs.flatMap((e) => [
    { epoch: e.epoch, deviation: e.projected.deviation, space: 'top-1 eigenvector' },
    { epoch: e.epoch, deviation: e.full.deviation, space: 'full space' },
  ]);
  return {
    claims,
    figures: [lineFigure({
      id: 'fig6-fdr', title: '|⟨O_L⟩/⟨O_R⟩ − 1| by epoch (fig. 6)', caption: `Yaida's FDR per epoch; dashed: the bound ${p.bound}. Logarithmic scale.`,
      data: rows, x: { field: 'epoch', title: 'epoch' }, y: { field: 'deviation', title: '|O_L/O_R − 1|', scale: { type: 'log' } }, series: 'space', points: true,
      rules: [{ y: p.bound, label: String(p.bound) }],
    })],
    summary: { epochs: out.epochs },
  };
}
