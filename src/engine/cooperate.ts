import { setImmediate as nextTurn } from 'timers/promises';

let last = Date.now();

/**
 * Let timers and I/O run (activity heartbeats, workflow queries) at most every 100 ms of
 * computation. `await tensor.data()` resolves as a microtask on the CPU and WASM backends, so a
 * loop of them never reaches the timers phase on its own; loops of HVPs and per-sample
 * gradients call this once per iteration.
 */
export async function cooperate(): Promise<void> {
  if (Date.now() - last < 100) return;
  await nextTurn();
  last = Date.now();
}
