/**
 * This pod's `controller.kubernetes.io/pod-deletion-cost`, kept at the work it holds (worker.podDeletionCost):
 * a ReplicaSet scaling down removes the pods of lowest cost first, so an idle worker goes before one
 * mid-unit (which would checkpoint and resume elsewhere, but lose the steps since its last checkpoint
 * and its warm-up). Best effort: the annotation is a hint the ReplicaSet reads, never a guarantee,
 * and a failed patch is logged and retried, never fatal.
 *
 * Node's https with the pod's own service-account token and the cluster's CA, as in-cluster clients
 * do: one PATCH, no Kubernetes client library.
 */
import { readFileSync } from 'fs';
import * as https from 'https';
import * as path from 'path';

export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

/** Where Kubernetes mounts a pod's service-account token and the cluster's CA. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The API server's pods endpoint for this pod, and how to authenticate to it. */
export interface PodTarget {
  /** `https://host:port/api/v1/namespaces/<ns>/pods/<name>`. */
  url: string;
  namespace: string;
  pod: string;
  /** PEM of the CA that signed the API server's certificate. */
  ca: Buffer;
  /** The token file, read at every patch (a projected token is rotated in place). */
  tokenPath: string;
}

/**
 * This pod's target from the downward API's POD_NAME and POD_NAMESPACE, the API server's service
 * variables and the mounted service account; or what is missing, in one line.
 */
export function inClusterTarget(
  env: Record<string, string | undefined>,
  dir: string = SERVICE_ACCOUNT_DIR,
): PodTarget | { missing: string } {
  const need = ['POD_NAME', 'POD_NAMESPACE', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT'];
  const unset = need.filter((n) => !env[n]);
  if (unset.length)
    return { missing: `${unset.join(', ')} not set (the downward API and the pod's service variables)` };
  let ca: Buffer;
  const tokenPath = path.join(dir, 'token');
  try {
    ca = readFileSync(path.join(dir, 'ca.crt'));
    readFileSync(tokenPath);
  } catch (err) {
    return { missing: `no service-account token and CA in ${dir} (${(err as NodeJS.ErrnoException).code})` };
  }
  const host = env.KUBERNETES_SERVICE_HOST!;
  const hostPort = `${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT}`;
  const ns = env.POD_NAMESPACE!;
  const pod = env.POD_NAME!;
  return {
    url: `https://${hostPort}/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod)}`,
    namespace: ns,
    pod,
    ca,
    tokenPath,
  };
}

/** One JSON merge-patch of the pod's annotation; rejects with a message that says what to fix. */
export async function patchDeletionCost(target: PodTarget, cost: number, timeoutMs = 10_000): Promise<void> {
  const token = readFileSync(target.tokenPath, 'utf8').trim();
  const body = JSON.stringify({ metadata: { annotations: { [POD_DELETION_COST]: String(cost) } } });
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = https.request(
      target.url,
      {
        method: 'PATCH',
        ca: target.ca,
        timeout: timeoutMs,
        headers: {
          'content-type': 'application/merge-patch+json',
          accept: 'application/json',
          authorization: `Bearer ${token}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
  if (status >= 200 && status < 300) return;
  let message = text.slice(0, 300);
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // Not a Status object: the raw text.
  }
  const where = `pod ${target.namespace}/${target.pod}`;
  if (status === 403)
    throw new Error(
      `HTTP 403 patching ${where}: the worker's service account needs a Role granting verbs get and patch on ` +
        `resource pods (apiGroup "") in namespace ${target.namespace}, bound by a RoleBinding ` +
        `(the chart's workers.podDeletionCost.enabled renders both): ${message}`,
    );
  if (status === 401)
    throw new Error(`HTTP 401 patching ${where}: the token in ${target.tokenPath} was refused: ${message}`);
  throw new Error(`HTTP ${status} patching ${where}: ${message}`);
}

export interface DeletionCostOptions {
  target: PodTarget;
  log: (e: { event: string; [k: string]: unknown }) => void;
  /** At most one patch per this long: a unit that starts and ends within it moves the annotation once. */
  minIntervalMs?: number;
  /** After a failed patch, the next try waits this long. */
  retryMs?: number;
  /** The patch itself (tests may count calls); default {@link patchDeletionCost}. */
  patch?: (target: PodTarget, cost: number) => Promise<void>;
}

/**
 * Keeps the annotation at the last cost given to {@link DeletionCost.set}: a patch when it differs from
 * the one the API server holds, no more often than `minIntervalMs`. A failure is logged once (and again
 * only when its message changes), retried after `retryMs`, and its recovery logged.
 */
export class DeletionCost {
  private wanted?: number;
  private sent?: number;
  private lastAttemptMs = -Infinity;
  private failing?: string;
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;
  private closed = false;
  private readonly minIntervalMs: number;
  private readonly retryMs: number;
  private readonly patch: (target: PodTarget, cost: number) => Promise<void>;

  constructor(private readonly opts: DeletionCostOptions) {
    this.minIntervalMs = opts.minIntervalMs ?? 5000;
    this.retryMs = opts.retryMs ?? 30_000;
    this.patch = opts.patch ?? ((t, c) => patchDeletionCost(t, c));
  }

  /** The work the pod holds now (activities in flight). */
  set(cost: number): void {
    this.wanted = Math.max(0, Math.round(cost));
    this.schedule();
  }

  /** Stops patching (a patch under way completes). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private schedule(): void {
    if (this.closed || this.timer || this.inFlight || this.wanted === undefined || this.wanted === this.sent) return;
    const wait = this.lastAttemptMs + (this.failing ? this.retryMs : this.minIntervalMs) - Date.now();
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.inFlight = this.flush().finally(() => {
          this.inFlight = undefined;
          this.schedule();
        });
      },
      Math.max(0, wait),
    );
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    const cost = this.wanted!;
    this.lastAttemptMs = Date.now();
    try {
      await this.patch(this.opts.target, cost);
      this.sent = cost;
      if (this.failing) this.opts.log({ event: 'pod-deletion-cost-recovered', cost });
      this.failing = undefined;
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.failing)
        this.opts.log({ event: 'pod-deletion-cost-failed', error: message, retryMs: this.retryMs });
      this.failing = message;
    }
  }
}

/**
 * worker.podDeletionCost: polls `inFlight` (this pod's activities running, every process's) every
 * `pollMs` and keeps the annotation at it. Off (one log line saying why) outside a pod that can
 * reach its API server; the returned `stop` ends the polling either way.
 */
export function trackDeletionCost(
  enabled: boolean,
  inFlight: () => number | Promise<number>,
  log: DeletionCostOptions['log'],
  env: Record<string, string | undefined> = process.env,
  pollMs = 2000,
): () => Promise<void> {
  if (!enabled) return async () => {};
  const target = inClusterTarget(env);
  if ('missing' in target) {
    log({ event: 'pod-deletion-cost-off', reason: target.missing });
    return async () => {};
  }
  log({ event: 'pod-deletion-cost', pod: `${target.namespace}/${target.pod}` });
  const cost = new DeletionCost({ target, log });
  const poll = async (): Promise<void> => {
    try {
      cost.set(await inFlight());
    } catch {
      // A count not read this time (a child restarting) is read at the next poll.
    }
  };
  void poll();
  const timer = setInterval(() => void poll(), pollMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await cost.close();
  };
}
