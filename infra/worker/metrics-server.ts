/**
 * The worker's HTTP endpoint (node's http): `/metrics` (Prometheus text format), and where the
 * source judges health, `/healthz` (liveness: 503 once an activity's numerics hang) and `/readyz`
 * (polling its queues). One worker process serves its own registry (WorkerMetrics); the parent of
 * `--gpus N` serves its children's, merged (pod-metrics.ts), on the same ports.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { HealthVerdict } from './health';

/** What an endpoint serves: metrics in Prometheus's text format, and optionally a health verdict. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
  /** `/healthz` and `/readyz` judge this; without it they answer 404 (the SDK metrics' port). */
  health?(): HealthVerdict | Promise<HealthVerdict>;
}

/** The setting a port comes from and its variable, for the one line a taken port fails with. */
export interface PortSetting {
  key: string;
  env: string;
}

export const METRICS_PORT: PortSetting = { key: 'worker.metricsPort', env: 'REPRO_WORKER_METRICS_PORT' };
export const SDK_METRICS_PORT: PortSetting = { key: 'worker.sdkMetricsPort', env: 'REPRO_WORKER_SDK_METRICS_PORT' };

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one given for 0 in tests). */
  port: number;
  close(): Promise<void>;
}

/** Serve `source` on host:port; fails with one line naming the setting when the port is taken. */
export async function serveMetrics(
  source: MetricsSource,
  host: string,
  port: number,
  setting: PortSetting = METRICS_PORT,
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
    };
    const judged = (answer: (h: HealthVerdict) => void): void => {
      Promise.resolve(source.health!()).then(answer, (err: Error) =>
        json(500, { status: 'error', reason: err.message }),
      );
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      source.metrics().then(
        (text) => res.writeHead(200, { 'content-type': source.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
      );
    } else if (path === '/healthz' && source.health) {
      judged((h) => json(h.live ? 200 : 503, { status: h.live ? 'ok' : 'stalled', ...h }));
    } else if (path === '/readyz' && source.health) {
      judged((h) => json(h.ready ? 200 : 503, { status: h.ready ? 'ready' : h.phase, ...h }));
    } else {
      const paths = source.health ? '/metrics, /healthz or /readyz' : '/metrics';
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try ${paths}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `${setting.key} ${port} on ${host} cannot be served (${err.code ?? err.message}): ` +
            `pick a free port with ${setting.env} (0: off), or an address with REPRO_WORKER_METRICS_HOST`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
