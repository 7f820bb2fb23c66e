import { boundClaim } from '../../results/claims';
import { lineFigure } from '../../report/figures';
import type { Analysis } from '../experiment';
import type { Fig5Params } from './definition';

export type Fig5Loss = 'lsce' | 'mse';

/** What a unit (one loss) reports. */
export interface Fig5Output {
  loss: Fig5Loss;
  /** What it trained on: the data set, its samples and input features, and the SHA-256 of their content. */
  data?: { dataset: string; samples: number; inputs: number; sha256: string };
  records: Array<{ step: number; epoch: number; cs: number; trainLoss: number }>;
  final: { cs: number; method: 'exact' | 'randomized'; interval?: { lo: number; hi: number; confidence: number } };
}

const LABEL: Record<Fig5Loss, string> = { lsce: 'label-smoothed cross entropy', mse: 'MSE' };

/**
 * fig5's claims: after training, CS(H, C) of the gradient-noise covariance with the Hessian is
 * above the paper's 0.9, for each loss (exact at the final point when `exactFinal`, else the
 * 95% interval of four randomized estimates must clear the bound).
 */
export function fig5Analysis(p: Fig5Params, outputs: Record<Fig5Loss, Fig5Output>): Analysis {
  const claims = (['lsce', 'mse'] as const).map((loss) => {
    const o = outputs[loss];
    const lr = loss === 'lsce' ? p.lrLsce : p.lrMse;
    return boundClaim({
      id: `cs-above-${p.threshold}-${loss}`,
      kind: 'above',
      bound: p.threshold,
      description:
        `after ${p.epochs} epochs of SGD (${LABEL[loss]}, lr ${lr}, batch ${p.batch}), ` +
        `CS(H, C) = Tr(HC)/sqrt(Tr(H²)Tr(C²)) is above ${p.threshold} ` +
        `(${
          o.final.method === 'exact' ? 'exact: every sample and every Hessian column' : 'four randomized estimates'
        })`,
      paper: 'fig. 5',
      measured: o.final.cs,
      interval: o.final.interval,
    });
  });
  const rows = (['lsce', 'mse'] as const).flatMap((loss) =>
    outputs[loss].records.map((r) => ({ epoch: r.epoch, cs: r.cs, loss: LABEL[loss] })),
  );
  return {
    claims,
    figures: [
      lineFigure({
        id: 'fig5-cs',
        title: 'CS(H, C) during training (fig. 5)',
        caption:
          `Randomized estimates (${p.csSamples} per-sample gradients, ${p.csProbes} probes) each epoch; ` +
          `dashed: the paper's ${p.threshold}.`,
        data: rows,
        x: { field: 'epoch', title: 'epoch' },
        y: { field: 'cs', title: 'CS(H, C)' },
        series: 'loss',
        points: true,
        rules: [{ y: p.threshold, label: String(p.threshold) }],
      }),
    ],
    summary: { final: { lsce: outputs.lsce.final, mse: outputs.mse.final }, data: outputs.lsce.data },
  };
}
