import { DivergenceError } from './divergence';

/** Losses of `count` consecutive steps from `from`, still on the device until read. */
interface Pending {
  from: number;
  count: number;
  read(): Promise<ArrayLike<number>>;
  dispose(): void;
}

/**
 * The training losses, read from the device every `every` steps (or once a second, whichever
 * comes first) rather than after each step: a read waits for all queued device work, so reading
 * each step's loss would keep the host from running ahead of a GPU. On a read, `onStep` sees each
 * step in order with its loss, and the first non-finite loss throws {@link DivergenceError}
 * naming its step (the steps after it, run before the read, change nothing: the error ends the run).
 */
export class LossLog {
  private pending: Pending[] = [];
  private steps = 0;
  private last = performance.now();

  constructor(
    private readonly every: number,
    private readonly lr: number,
    private readonly onStep?: (step: number, loss: number) => void,
  ) {}

  /** How many more steps may run before the next read is due (at least 1). */
  room(): number {
    return Math.max(1, this.every - this.steps);
  }

  add(from: number, count: number, read: () => Promise<ArrayLike<number>>, dispose: () => void): void {
    this.pending.push({ from, count, read, dispose });
    this.steps += count;
  }

  /** Reads the pending losses if a read is due (or `force`). */
  async settle(force = false): Promise<void> {
    if (!force && this.steps < this.every && performance.now() - this.last < 1000) return;
    while (this.pending.length > 0) {
      const p = this.pending.shift()!;
      let values: ArrayLike<number>;
      try {
        values = await p.read();
      } finally {
        p.dispose();
      }
      for (let i = 0; i < p.count; i++) {
        const l = values[i]!;
        if (!Number.isFinite(l))
          throw new DivergenceError(
            `training loss became ${l} at step ${p.from + i}; lower the learning rate (now ${this.lr})`,
          );
        this.onStep?.(p.from + i + 1, l);
      }
    }
    this.steps = 0;
    this.last = performance.now();
  }

  /** Drops what was not read (after an error). */
  dispose(): void {
    for (const p of this.pending.splice(0)) p.dispose();
    this.steps = 0;
  }
}
