import { MultiBar, Presets, SingleBar } from 'cli-progress';
import type { Progress } from '../../workflows/progress';
import { RunEta } from './eta';

/** How far a run is: the fraction of all its steps done, and the part being worked on now. */
export function summarizeProgress(p: Progress | undefined): { fraction: number; stage: string } {
  const entries = Object.entries(p ?? {}).filter(([, v]) => v.of > 0);
  if (!entries.length) return { fraction: 0, stage: 'starting' };
  const fraction = entries.reduce((a, [, v]) => a + Math.min(1, v.step / v.of), 0) / entries.length;
  const active = entries.find(([, v]) => v.step > 0 && v.step < v.of) ?? entries.find(([, v]) => v.step < v.of);
  return { fraction, stage: active ? `${active[0]} ${active[1].step}/${active[1].of}` : 'summarizing' };
}

/** One run of the main job as the suite view shows it. */
export interface SuiteRow {
  label: string;
  /** Fraction of its steps done. */
  fraction: number;
  /** What it works on now. */
  stage: string;
  /** Remaining seconds, when known. */
  eta?: number;
}

/**
 * Progress of the main job: one live bar per experiment in flight (how far, an ETA from its
 * measured rates, what it works on) and a line for the whole suite with its ETA; on a terminal
 * redrawn in place, otherwise plain lines every 15 s.
 */
export class SuiteView {
  private readonly multi?: MultiBar;
  private readonly bars = new Map<string, SingleBar>();
  private suiteBar?: SingleBar;
  private lastLine = 0;

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    if (out.isTTY) {
      this.multi = new MultiBar(
        {
          format: '{label} |{bar}| {percentage}% | ETA {eta} | {stage}',
          stream: out,
          hideCursor: true,
          clearOnComplete: false,
          autopadding: true,
        },
        Presets.shades_classic,
      );
    }
  }

  begin(label: string): void {
    if (this.multi) this.bars.set(label, this.multi.create(1000, 0, { label: label.padEnd(22), eta: '?', stage: '' }));
    else this.out.write(`${label}: started\n`);
  }

  /** Redraw: the runs in flight and the suite (`done` finished, `eta` seconds for all that is left). */
  update(rows: readonly SuiteRow[], done: number, eta: number | undefined): void {
    const suite = `suite: ${done} of ${this.total} done, ETA ${eta === undefined ? '?' : formatDuration(eta)}`;
    if (this.multi) {
      for (const r of rows)
        this.bars.get(r.label)?.update(Math.round(r.fraction * 1000), {
          label: r.label.padEnd(22),
          eta: r.eta === undefined ? '?' : formatDuration(r.eta),
          stage: r.stage,
        });
      this.suiteBar ??= this.multi.create(this.total, 0, { label: 'suite'.padEnd(22), eta: '?', stage: '' });
      this.suiteBar.update(done, { eta: eta === undefined ? '?' : formatDuration(eta), stage: suite });
      return;
    }
    if (Date.now() - this.lastLine < 15_000) return;
    this.lastLine = Date.now();
    for (const r of rows) {
      const e = r.eta === undefined ? '' : `, ETA ${formatDuration(r.eta)}`;
      this.out.write(`${r.label}: ${Math.round(r.fraction * 100)}% (${r.stage})${e}\n`);
    }
    this.out.write(`${suite}\n`);
  }

  end(label: string, outcome: string): void {
    const bar = this.bars.get(label);
    if (bar) {
      bar.update(1000, { stage: outcome, eta: 'done' });
      this.bars.delete(label);
    } else if (!this.multi) this.out.write(`${label}: ${outcome}\n`);
  }

  /** A block of text (a finished run's result) above the bars, or on stdout when it is not the terminal. */
  print(text: string): void {
    if (this.multi && process.stdout.isTTY) this.multi.log(text + '\n');
    else process.stdout.write(text + '\n');
  }

  stop(): void {
    this.multi?.stop();
  }
}

/** Seconds as `1h02m`, `3m05s` or `42s`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * Each part's ETA from its measured rate since the run started (steps done per second so far):
 * `done`, `?` before its first step, else the time its remaining steps take at that rate.
 */
export function etaOf(part: { step: number; of: number }, elapsedSeconds: number): string {
  if (part.step >= part.of) return 'done';
  if (part.step <= 0 || elapsedSeconds <= 0) return '?';
  return formatDuration((elapsedSeconds * (part.of - part.step)) / part.step);
}

/**
 * `repro status` on a terminal: one live bar per part of the run (stages, seeds, projections,
 * trace chunks), each with steps done of total and an ETA from its rate over the last window
 * (eta.ts, as the main job's bars), redrawn in place until the run closes.
 */
export class StatusBars {
  private readonly multi: MultiBar;
  private readonly bars = new Map<string, ReturnType<MultiBar['create']>>();
  private readonly eta = new RunEta();

  constructor(
    private readonly startedAt: Date,
    out: NodeJS.WriteStream = process.stdout,
  ) {
    this.multi = new MultiBar(
      {
        format: '{name} |{bar}| {value}/{total} | ETA {eta}',
        stream: out,
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
      },
      Presets.shades_classic,
    );
  }

  update(progress: Progress | undefined, now = new Date()): void {
    this.eta.observe(progress, (now.getTime() - this.startedAt.getTime()) / 1000);
    const width = Math.max(8, ...Object.keys(progress ?? {}).map((k) => k.length));
    for (const [name, part] of Object.entries(progress ?? {})) {
      const left = this.eta.eta(name);
      const eta = part.step >= part.of ? 'done' : left === undefined ? '?' : formatDuration(left);
      const payload = { name: name.padEnd(width), eta };
      const bar = this.bars.get(name);
      if (bar) {
        bar.setTotal(Math.max(part.of, 1));
        bar.update(part.step, payload);
      } else {
        this.bars.set(name, this.multi.create(Math.max(part.of, 1), part.step, payload));
      }
    }
  }

  stop(): void {
    this.multi.stop();
  }
}
