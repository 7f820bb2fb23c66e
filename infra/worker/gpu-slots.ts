import { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * The gpu queue's slots held in the worker rather than by Temporal: the worker takes `prefetch`
 * more activity tasks than it has slots, and they wait here for one. When a stage ends, the next
 * one starts at once instead of after a poll round trip to the server (about 25 ms on the
 * embedded stack, against the few ms of numerics of a small preset's stage). A waiting activity
 * heartbeats, so it is neither timed out nor counted as stalled, and leaves on cancellation.
 */
export class GpuSlots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly slots: number) {
    this.free = slots;
  }

  /** Runs `f` in a slot, waiting (heartbeating every second) for one if none is free. */
  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await this.wait();
    try {
      return await f();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }

  private wait(): Promise<void> {
    const ctx = Context.current();
    return new Promise<void>((resolve, reject) => {
      const beat = setInterval(() => ctx.heartbeat({ stage: 'waiting for a gpu slot' }), 1000);
      const granted = (): void => {
        clearInterval(beat);
        ctx.cancellationSignal.removeEventListener('abort', cancelled);
        resolve();
      };
      const cancelled = (): void => {
        clearInterval(beat);
        const i = this.waiting.indexOf(granted);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(ctx.cancellationSignal.reason);
      };
      if (ctx.cancellationSignal.aborted) return cancelled();
      ctx.cancellationSignal.addEventListener('abort', cancelled, { once: true });
      this.waiting.push(granted);
    });
  }

  /** The activity interceptor that runs every activity of a worker in one of these slots. */
  interceptor(): ActivityInterceptorsFactory {
    return () => ({ inbound: { execute: (input, next) => this.run(() => next(input)) } });
  }
}
