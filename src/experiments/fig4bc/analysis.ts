import { signClaim, type Claim } from '../../results/claims';
import { meanInterval } from '../../stats/statistics';
import { seedTraceSlopes, TREND_CONFIDENCE, type TracedPoint } from '../projected-path/analysis';
import type { PathParams } from '../projected-path/params';

/**
 * fig4b/c's own claim: from a minimum that memorized shuffled labels, SGD on the clean data moves
 * along the valley to better generalization, so the validation loss along the projected path
 * falls (per-seed slope of the epoch-mean validation loss, Student-t interval over seeds).
 */
export function validationLossFalls(p: PathParams, rows: readonly TracedPoint[]): Claim[] {
  const val = seedTraceSlopes(rows, (r) => r.valLoss);
  const fall = meanInterval(
    val.map((s) => s.slope),
    TREND_CONFIDENCE,
  );
  return [
    signClaim({
      id: 'validation-loss-falls',
      description:
        `starting at a minimum that also fit ${p.corruptSamples} samples with shuffled labels, the validation ` +
        'loss along the projected path falls: per-seed slope of the epoch-mean validation loss, averaged over ' +
        `${val.length} seeds, ${Math.round(TREND_CONFIDENCE * 100)}% Student-t interval`,
      paper: 'appendix A.2, fig. 4(b), 4(c)',
      side: 'negative',
      measured: fall.mean,
      interval: fall.interval,
      inconclusiveBecause: val.length < 2 ? 'an interval over seeds needs two seeds' : undefined,
    }),
  ];
}
