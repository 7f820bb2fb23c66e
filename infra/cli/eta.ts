/**
 * ETAs that do not jump. A part of a run (a unit, a seed's training, a trace chunk) is timed from
 * its own start, not the run's, over a sliding window, so a part that starts late or speeds up is
 * not mistaken for a slow one; a part not started yet takes the rate of the parts of its kind
 * (units of one study, seeds of one path) that have.
 *
 * A whole run's remaining time is more than its parts' steps: each unit's start-up and its
 * outputs (a Hessian spectrum after the training), a path's projections and traces that appear
 * only once its training is done, the analysis at the end. Steps alone miss all of that (measured
 * on recorded runs: a study's outputs took up to 70% of its wall time). With the time profile of
 * an earlier run of the same preset (when it had done how many steps, over all its parts), the
 * run's ETA is that run's remaining time from the same count on, scaled by how much slower or
 * faster this run got there; without one it falls back to the parts' step rates. The count of
 * steps done only rises, where the fraction of steps does not: a projected path's projections and
 * traces appear as parts only once its training is done.
 *
 * Work done is counted in steps, or, where the parts report it (a projected path's), in seconds of
 * numerics their finished activities took: one bisected epoch pair costs as much as fifty
 * connected ones and one trace chunk as much as all the epochs, so steps say little of the work
 * left, while the same preset and seed do about the same numerics again (its profile's unit says
 * which). Counted in numerics, the ETA is the work the prior did that this run has not, at this
 * run's average rate so far: a projected path's time map is no guide, since how fast it goes
 * depends on what shares the workers with it (measured on recorded suites: test/unit/eta.test.ts).
 */
import type { Progress } from '../../workflows/progress';

/** When a run first had done each amount of work (over all its parts), and how long it took in all. */
export interface Profile {
  seconds: number;
  /** `[work done, seconds]`, work rising. */
  points: Array<[number, number]>;
  /** What work is counted in (steps when absent: profiles written before numerics were). */
  unit?: WorkUnit;
}

/** Steps of the parts, or seconds of numerics their finished activities took. */
export type WorkUnit = 'steps' | 'numerics';

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
  /** Each part's numerics so far (ms), for parts that report them. */
  private readonly numerics = new Map<string, number>();
  /** This run's own profile: when it first had done each amount of work. */
  private readonly reached: Array<[number, number]> = [];
  private now = 0;

  /** `prior`: an earlier run of the same preset, to scale the ETA from (see the module's comment). */
  constructor(private readonly prior?: Profile) {}

  /** Record a snapshot of the run's progress taken at `t` (seconds). */
  observe(progress: Progress | undefined, t: number): void {
    for (const [name, p] of Object.entries(progress ?? {})) {
      this.sizes.set(name, p.of);
      if (p.numericsMs !== undefined) this.numerics.set(name, p.numericsMs);
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
    this.now = t;
    const done = this.workDone();
    if (done > (this.reached.at(-1)?.[0] ?? 0)) this.reached.push([done, t]);
  }

  /** What this run's work is counted in: numerics where its parts report them. */
  unit(): WorkUnit {
    return this.numerics.size ? 'numerics' : 'steps';
  }

  /** Work done so far in {@link unit}s. */
  workDone(): number {
    if (!this.numerics.size) return this.stepsDone();
    let ms = 0;
    for (const v of this.numerics.values()) ms += v;
    return ms / 1000;
  }

  /** This run's profile, once it has ended after `seconds` (at most ~200 points). */
  profile(seconds: number): Profile {
    const points: Array<[number, number]> = [];
    const grain = (this.reached.at(-1)?.[0] ?? 0) / 200;
    for (const [n, t] of this.reached) if (!points.length || n - points.at(-1)![0] >= grain) points.push([n, t]);
    return { seconds, points, unit: this.unit() };
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

  /** Steps done over all the run's parts seen so far. */
  stepsDone(): number {
    let done = 0;
    for (const [part, of] of this.sizes) done += Math.min(of, this.samples.get(part)?.at(-1)?.step ?? 0);
    return done;
  }

  /** The fraction of the run's steps done, each part weighted by its size. */
  fraction(): number {
    const all = [...this.sizes.values()].reduce((a, b) => a + b, 0);
    return all ? this.stepsDone() / all : 0;
  }

  /**
   * Remaining seconds of the run. With a prior profile in numerics: the prior's numerics this run
   * has not done yet, at this run's average rate. With one in steps: the prior's remaining time
   * from the steps this run has done, times this run's pace relative to the prior's (the time each
   * took to get there), less the time this run has spent since, never less than what the parts'
   * steps still need. Without one (or in another unit than this run's): the time the unfinished parts
   * need at their rates, shared by the parts seen moving at once (the run's parallelism), never
   * less than the slowest part.
   * Undefined while that is unknown (a part's rate not measured yet; every part seen so far done
   * while the run goes on: more parts are to come).
   */
  remaining(): number | undefined {
    const steps = this.stepsRemaining();
    const here = this.reached.at(-1);
    const prior = this.prior && (this.prior.unit ?? 'steps') === this.unit() ? this.prior : undefined;
    if (prior?.unit === 'numerics') {
      // The prior's work not done yet, at this run's average rate (see the module's comment).
      const total = prior.points.at(-1)?.[0];
      const done = this.workDone();
      // Past the prior's total: more than it did, how much more unknown.
      return total !== undefined && done > 0 && done < total && this.now > 0
        ? (total - done) / (done / this.now)
        : undefined;
    }
    const then = here && prior ? reachedAt(prior, here[0]) : undefined;
    if (here && then !== undefined && then > 0) {
      const pace = here[1] / then;
      const scaled = (prior!.seconds - then) * pace - (this.now - here[1]);
      return Math.max(scaled, steps ?? 0);
    }
    return steps || undefined;
  }

  private stepsRemaining(): number | undefined {
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

/** When `profile`'s run first had done `steps` (interpolated), undefined past its last point. */
export function reachedAt(profile: Profile, steps: number): number | undefined {
  const pts = profile.points;
  const i = pts.findIndex(([n]) => n >= steps);
  if (i < 0) return undefined;
  if (i === 0) return pts[0]![1];
  const [f0, t0] = pts[i - 1]!;
  const [f1, t1] = pts[i]!;
  return t0 + ((t1 - t0) * (steps - f0)) / (f1 - f0);
}

/**
 * Each part's remaining seconds from one snapshot whose parts carry their marks (when their step
 * changed: workflow time, or a study unit's own clock in its heartbeat): the live view's rates over
 * a window, for `repro status --once` and `--json`. Undefined where a part has not moved twice.
 */
export function etasFromMarks(progress: Progress, nowMs: number): Record<string, number | undefined> {
  const eta = new RunEta();
  const changes = Object.entries(progress)
    .flatMap(([part, p]) => (p.marks ?? []).map(([t, step]) => ({ part, t, step, of: p.of })))
    .sort((a, b) => a.t - b.t);
  for (const c of changes) eta.observe({ [c.part]: { step: c.step, of: c.of } }, c.t / 1000);
  eta.observe(
    Object.fromEntries(Object.entries(progress).map(([k, v]) => [k, { step: v.step, of: v.of }])),
    nowMs / 1000,
  );
  return Object.fromEntries(Object.keys(progress).map((k) => [k, eta.eta(k)]));
}
