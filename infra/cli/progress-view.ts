import { MultiBar, Presets, SingleBar } from 'cli-progress';
import type { Progress } from '../../workflows/progress';

/** How far a run is: the fraction of all its steps done, and the part being worked on now. */
export function summarizeProgress(p: Progress | undefined): { fraction: number; stage: string } {
  const entries = Object.entries(p ?? {}).filter(([, v]) => v.of > 0);
  if (!entries.length) return { fraction: 0, stage: 'starting' };
  const fraction = entries.reduce((a, [, v]) => a + Math.min(1, v.step / v.of), 0) / entries.length;
  const active = entries.find(([, v]) => v.step > 0 && v.step < v.of) ?? entries.find(([, v]) => v.step < v.of);
  return { fraction, stage: active ? `${active[0]} ${active[1].step}/${active[1].of}` : 'summarizing' };
}

/**
 * Progress of the main job on a terminal: one live bar per experiment (which experiment, which
 * stage, how far, an ETA from the measured rate); plain lines every 15 s when not a terminal.
 */
export class ProgressView {
  private bar?: SingleBar;
  private lastLine = 0;
  private started = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  begin(label: string): void {
    this.started = Date.now();
    this.lastLine = 0;
    if (this.out.isTTY) {
      this.bar = new SingleBar({
        format: `${label.padEnd(22)} |{bar}| {percentage}% | ETA {eta_formatted} | {stage}`,
        stream: this.out,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
      });
      this.bar.start(1000, 0, { stage: 'starting' });
    } else {
      this.out.write(`${label}: started\n`);
    }
  }

  update(label: string, p: Progress | undefined): void {
    const { fraction, stage } = summarizeProgress(p);
    if (this.bar) {
      this.bar.update(Math.round(fraction * 1000), { stage });
      return;
    }
    if (Date.now() - this.lastLine < 15_000) return;
    this.lastLine = Date.now();
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = fraction > 0.02 ? `, ETA ${Math.round((elapsed * (1 - fraction)) / fraction)} s` : '';
    this.out.write(`${label}: ${Math.round(fraction * 100)}% (${stage})${eta}\n`);
  }

  end(label: string, outcome: string): void {
    if (this.bar) {
      this.bar.update(1000, { stage: outcome });
      this.bar.stop();
      this.bar = undefined;
    } else {
      this.out.write(`${label}: ${outcome}\n`);
    }
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
 * trace chunks), each with steps done of total and an ETA from the measured rate, redrawn in
 * place until the run closes.
 */
export class StatusBars {
  private readonly multi: MultiBar;
  private readonly bars = new Map<string, ReturnType<MultiBar['create']>>();

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
    const elapsed = (now.getTime() - this.startedAt.getTime()) / 1000;
    const width = Math.max(8, ...Object.keys(progress ?? {}).map((k) => k.length));
    for (const [name, part] of Object.entries(progress ?? {})) {
      const payload = { name: name.padEnd(width), eta: etaOf(part, elapsed) };
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
