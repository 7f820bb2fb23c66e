/**
 * The worker's HTTP endpoint (node's http): `/metrics` (repro's own, Prometheus text format),
 * `/healthz` (liveness: 503 once an activity's numerics hang) and `/readyz` (polling its queues).
 * The Temporal SDK's own metrics are on their own port (worker.sdkMetricsPort).
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { WorkerMetrics } from './worker-metrics';

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one given for 0 in tests). */
  port: number;
  close(): Promise<void>;
}

/** Serve `metrics` on host:port; fails with one line naming the setting when the port is taken. */
export async function serveMetrics(metrics: WorkerMetrics, host: string, port: number): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
      );
    } else if (path === '/healthz') {
      const h = metrics.health();
      json(h.live ? 200 : 503, { status: h.live ? 'ok' : 'stalled', ...h });
    } else if (path === '/readyz') {
      const h = metrics.health();
      json(h.ready ? 200 : 503, { status: h.ready ? 'ready' : h.phase, ...h });
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `worker.metricsPort ${port} on ${host} cannot be served (${err.code ?? err.message}): ` +
            'pick a free port with REPRO_WORKER_METRICS_PORT (0: off), or an address with REPRO_WORKER_METRICS_HOST',
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
