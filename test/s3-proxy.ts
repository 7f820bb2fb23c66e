/**
 * A fault-injecting HTTP proxy in front of the real S3 server, for the cluster fault tests: it
 * forwards every request unchanged (SigV4 signatures hold: the Host header travels as sent), and
 * on demand answers some with 503 SlowDown (as S3 does when throttling), refuses connections (an
 * outage), or holds requests back (a slow link, so a multipart upload stays in flight).
 */
import * as http from 'http';
import type { AddressInfo } from 'net';

export interface S3Proxy {
  /** The endpoint to give workers (`http://127.0.0.1:<port>`). */
  endpoint: string;
  /** Answer with 503 SlowDown when it returns true for a request (method, url). */
  throttle: (req: { method: string; url: string }) => boolean;
  /** Refuse every request (close the connection at once) while true. */
  down: boolean;
  /** Hold each request this long before forwarding it. */
  delayMs: number;
  /** Requests seen, in order (method and URL). */
  seen: Array<{ method: string; url: string }>;
  close(): Promise<void>;
}

export async function startS3Proxy(target: string): Promise<S3Proxy> {
  const upstream = new URL(target);
  const proxy: S3Proxy = {
    endpoint: '',
    throttle: () => false,
    down: false,
    delayMs: 0,
    seen: [],
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server = http.createServer((req, res) => {
    const entry = { method: req.method ?? 'GET', url: req.url ?? '/' };
    proxy.seen.push(entry);
    if (proxy.down) return void req.socket.destroy();
    if (proxy.throttle(entry)) {
      req.resume();
      return void res
        .writeHead(503, { 'content-type': 'application/xml', 'retry-after': '1' })
        .end(
          '<?xml version="1.0" encoding="UTF-8"?>' +
            '<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>',
        );
    }
    setTimeout(() => {
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      req.pipe(out);
    }, proxy.delayMs);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
