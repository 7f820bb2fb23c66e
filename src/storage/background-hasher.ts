import { createHash, type Hash } from 'crypto';
import { isMainThread, parentPort, Worker, workerData } from 'worker_threads';

/**
 * SHA-256 on a second thread, over a buffer shared with it: the download loop copies each
 * chunk into the shared buffer and says how far it got; the hasher thread catches up while the
 * next chunks arrive. Verification then costs the download almost nothing on a multi-core
 * machine (the hash of a 90 MB checkpoint is ~50 ms of CPU).
 */

type Message = { id: number; sab: SharedArrayBuffer } | { id: number; upTo: number } | { id: number; end: number };

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'sha256') {
  const jobs = new Map<number, { sab: SharedArrayBuffer; hash: Hash; hashed: number }>();
  parentPort!.on('message', (m: Message) => {
    if ('sab' in m) {
      jobs.set(m.id, { sab: m.sab, hash: createHash('sha256'), hashed: 0 });
      return;
    }
    const job = jobs.get(m.id)!;
    const upTo = 'upTo' in m ? m.upTo : m.end;
    if (upTo > job.hashed) job.hash.update(new Uint8Array(job.sab, job.hashed, upTo - job.hashed));
    job.hashed = upTo;
    if ('end' in m) {
      jobs.delete(m.id);
      parentPort!.postMessage({ id: m.id, hex: job.hash.digest('hex') });
    }
  });
}

let worker: Worker | undefined;
let nextId = 0;
/** Jobs started and not yet answered: while there are any, the thread keeps the process alive. */
let open = 0;
const waiting = new Map<number, (hex: string) => void>();

function hasherThread(): Worker {
  if (!worker) {
    worker = new Worker(__filename, { workerData: { role: 'sha256' } });
    worker.on('message', (m: { id: number; hex: string }) => {
      waiting.get(m.id)?.(m.hex);
      waiting.delete(m.id);
      if (--open === 0) worker?.unref(); // idle, it never keeps a process alive
    });
    worker.on('error', () => {
      worker = undefined;
    });
  }
  return worker;
}

/** A SHA-256 computed on the hasher thread over a shared buffer filled from the front. */
export class SharedBufferHash {
  private readonly id = nextId++;
  private readonly thread = hasherThread();

  constructor(readonly buffer: SharedArrayBuffer) {
    if (open++ === 0) this.thread.ref();
    this.thread.postMessage({ id: this.id, sab: buffer });
  }

  /** Bytes [0, n) are final: the thread may hash up to n. */
  filled(n: number): void {
    this.thread.postMessage({ id: this.id, upTo: n });
  }

  /** The hash of bytes [0, n). */
  digest(n: number): Promise<string> {
    return new Promise((resolve) => {
      waiting.set(this.id, resolve);
      this.thread.postMessage({ id: this.id, end: n });
    });
  }
}
