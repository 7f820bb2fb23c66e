import type { Ratio } from '../../hessian/fdr';
import { boundClaim, signClaim, type ClaimInterval } from '../../results/claims';
import { lineFigure } from '../../report/figures';
import { tQuantile } from '../../stats/statistics';
import type { Analysis } from '../experiment';
import type { Fig6Params } from './definition';

/** One epoch's FDR: averages over the epoch (or its latter half), full space and along the top-1 eigenvector. */
export interface EpochFdr {
  epoch: number;
  full: Ratio;
  projected: Ratio;
  topEigenvalue: number;
}

export interface Fig6Output {
  /** What it trained on: the data set, its samples and image shape, and the SHA-256 of their content. */
  data?: { dataset: string; samples: number; shape: number[]; sha256: string };
  epochs: EpochFdr[];
}

const CONFIDENCE = 0.95;

/** The deviation's interval: ± t·(error of O_L/O_R from its batches' boundary terms), Student t over the batches. */
function deviationInterval(r: Ratio): ClaimInterval {
  const half = tQuantile((1 + CONFIDENCE) / 2, Math.max(1, r.batches - 1)) * r.stderr;
  return { lo: Math.max(0, r.deviation - half), hi: r.deviation + half, confidence: CONFIDENCE };
}

/**
 * fig6's claims, at the last epoch, each with a 95% interval from the boundary terms of batches of
 * that epoch's averaging window: projected on the top Hessian eigenvector, Yaida's relation
 * ⟨O_L⟩ = ⟨O_R⟩ holds to the paper's bound (the fast direction has equilibrated); in the full
 * space it does not (the slow directions have not); and the top-1 deviation is the smaller
 * (the timescale separation itself).
 */
export function fig6Analysis(p: Fig6Params, out: Fig6Output): Analysis {
  const last = out.epochs.at(-1);
  const none = last ? undefined : 'no epoch finished';
  const window =
    `averages over ${p.window === 'epoch' ? 'the steps' : 'the latter half'} of epoch ${last?.epoch ?? '?'}, ` +
    `${Math.round(CONFIDENCE * 100)}% interval ` +
    `from the spread of ${last?.full.batches ?? 0} batches' boundary terms`;
  const gap = last ? last.full.deviation - last.projected.deviation : NaN;
  const t = last ? tQuantile((1 + CONFIDENCE) / 2, Math.max(1, last.full.batches - 1)) : NaN;
  const gapHalf = last ? t * Math.hypot(last.full.stderr, last.projected.stderr) : NaN;
  const claims = [
    boundClaim({
      id: 'fdr-top1-stationary',
      kind: 'below',
      bound: p.bound,
      description:
        `along the top-1 Hessian eigenvector, |⟨O_L⟩/⟨O_R⟩ − 1| ` +
        `is below ${p.bound} after ${p.epochs} epochs (${window})`,
      paper: 'fig. 6',
      measured: last?.projected.deviation ?? NaN,
      interval: last ? deviationInterval(last.projected) : undefined,
      inconclusiveBecause: none,
    }),
    boundClaim({
      id: 'fdr-full-not-stationary',
      kind: 'above',
      bound: p.bound,
      description:
        `in the full parameter space, |⟨O_L⟩/⟨O_R⟩ − 1| stays above ${p.bound} over the same steps: ` +
        'the slow directions have not equilibrated',
      paper: 'fig. 6',
      measured: last?.full.deviation ?? NaN,
      interval: last ? deviationInterval(last.full) : undefined,
      inconclusiveBecause: none,
    }),
    signClaim({
      id: 'fdr-timescale-separation',
      side: 'positive',
      description:
        'the full-space deviation exceeds the top-1 one: the top Hessian direction is the nearer to stationarity ' +
        `(difference, ${window}; errors combined as if independent)`,
      paper: 'fig. 6, section 2.1.2',
      measured: gap,
      interval: { lo: gap - gapHalf, hi: gap + gapHalf, confidence: CONFIDENCE },
      inconclusiveBecause: none,
    }),
  ];
  const rows = out.epochs.flatMap((e) => [
    { epoch: e.epoch, deviation: e.projected.deviation, space: 'top-1 eigenvector' },
    { epoch: e.epoch, deviation: e.full.deviation, space: 'full space' },
  ]);
  return {
    claims,
    figures: [
      lineFigure({
        id: 'fig6-fdr',
        title: '|⟨O_L⟩/⟨O_R⟩ − 1| by epoch (fig. 6)',
        caption: `Yaida's FDR per epoch; dashed: the bound ${p.bound}. Logarithmic scale.`,
        data: rows,
        x: { field: 'epoch', title: 'epoch' },
        y: { field: 'deviation', title: '|O_L/O_R − 1|', scale: { type: 'log' } },
        series: 'space',
        points: true,
        rules: [{ y: p.bound, label: String(p.bound) }],
      }),
    ],
    summary: { epochs: out.epochs, data: out.data },
  };
}
