/**
 * ETAs from measured rates that do not jump: each part of a run (a unit, a seed's training, a
 * trace chunk) is timed from its own start, not the run's, over a sliding window, so a part that
 * starts late or speeds up is not mistaken for a slow one; a part not started yet takes the rate
 * of the parts of its kind (units of one study, seeds of one path) that have.
 */
import type { Progress } from '../../workflows/progress';

/** Seconds of progress a rate is measured over: long enough to smooth step-wise updates. */
const WINDOW_S = 90;

/** Parts alike in cost per step: the name with its ids and numbers taken out (`unit lr=0.05` → `unit lr=#`). */
export function kindOf(part: string): string {
  return part.replace(/\d+(\.\d+)?(e-?\d+)?/g, '#');
}

interface Sample {
  t: number;
  step: number;
}

/** Tracks every part of one run and answers ETAs in seconds (undefined: not yet known). */
export class RunEta {
  private readonly samples = new Map<string, Sample[]>();
  private readonly sizes = new Map<string, number>();

  /** Record a snapshot of the run's progress taken at `t` (seconds). */
  observe(progress: Progress | undefined, t: number): void {
    for (const [name, p] of Object.entries(progress ?? {})) {
      this.sizes.set(name, p.of);
      const s = this.samples.get(name) ?? [];
      if (!s.length || s.at(-1)!.step !== p.step) s.push({ t, step: p.step });
      else s.at(-1)!.t = s.at(-1)!.step === 0 ? t : s.at(-1)!.t; // a part not started yet starts now
      this.samples.set(name, s);
    }
    const moving = [...this.samples].filter(([part, x]) => {
      const last = x.at(-1)!;
      return last.step < (this.sizes.get(part) ?? 0) && x.length >= 2 && last.t >= t - WINDOW_S;
    }).length;
    this.parallelism = Math.max(this.parallelism, moving);
  }

  /**
   * Steps per second of a part over the last window of its own progress, from its first step on
   * (its start-up, loading data and building the model, is not a step); undefined before it has
   * moved twice.
   */
  rate(part: string): number | undefined {
    const s = this.samples.get(part)?.filter((x) => x.step > 0);
    if (!s || s.length < 2) return undefined;
    const last = s.at(-1)!;
    const first = s.find((x) => x.t >= last.t - WINDOW_S) ?? s[0]!;
    const from = first === last ? s.at(-2)! : first;
    return last.t > from.t ? (last.step - from.step) / (last.t - from.t) : undefined;
  }

  /** A part's remaining seconds: its own rate, else the mean rate of its kind's moving parts. */
  eta(part: string): number | undefined {
    const s = this.samples.get(part);
    const of = this.sizes.get(part);
    if (!s || of === undefined) return undefined;
    const step = s.at(-1)!.step;
    if (step >= of) return 0;
    const kind = kindOf(part);
    const peers = [...this.samples.keys()]
      .filter((p) => p !== part && kindOf(p) === kind)
      .map((p) => this.rate(p))
      .filter((r): r is number => r !== undefined && r > 0);
    const rate = this.rate(part) ?? (peers.length ? peers.reduce((a, b) => a + b, 0) / peers.length : undefined);
    return rate && rate > 0 ? (of - step) / rate : undefined;
  }

  /** The fraction of the run's steps done, each part weighted by its size. */
  fraction(): number {
    let done = 0,
      all = 0;
    for (const [part, of] of this.sizes) {
      done += Math.min(of, this.samples.get(part)?.at(-1)?.step ?? 0);
      all += of;
    }
    return all ? done / all : 0;
  }

  /**
   * Remaining seconds of the run: the time its unfinished parts need, shared by the parts seen
   * moving at once (the run's parallelism), never less than its slowest part; undefined while a
   * part's rate is unknown.
   */
  remaining(): number | undefined {
    let total = 0,
      slowest = 0;
    for (const part of this.sizes.keys()) {
      const e = this.eta(part);
      if (e === undefined) return undefined;
      total += e;
      slowest = Math.max(slowest, e);
    }
    return Math.max(slowest, total / this.parallelism);
  }

  /** The most parts seen moving at once (steps within the last window): how many the run's workers take. */
  private parallelism = 1;
}
