/**
 * The TLS front of the Temporal dev server when `repro up` serves other hosts. The dev server has
 * neither TLS nor authentication, so it listens on loopback only; this process listens on the
 * configured address with the configured certificate, authenticates every gRPC call (a client
 * certificate chaining to `temporal.serverTls.clientCaPath`, and/or the API key Temporal's SDKs
 * send as `authorization: Bearer <key>`), and forwards it over HTTP/2 to the dev server.
 * `repro up` runs it as a daemon: `node temporal-front.js <spec file>`.
 */
import { createHash, timingSafeEqual } from 'crypto';
import { readFileSync } from 'fs';
import * as http2 from 'http2';

export interface FrontSpec {
  listen: { host: string; port: number };
  upstream: { host: string; port: number };
  certPath: string;
  keyPath: string;
  /** CA that client certificates must chain to; empty: no client certificate asked. */
  clientCaPath: string;
  /** SHA-256 (hex) of the API key every call must carry; empty: none asked (client certificates alone). */
  apiKeySha256: string;
}

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = http2.constants;

/** Header blocks as node gives them, without the symbol-keyed bookkeeping and the caller's credentials. */
function forwardable(headers: http2.IncomingHttpHeaders, drop: string[] = []): http2.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !drop.includes(k)));
}

/** A gRPC error answered by the front itself (a trailers-only response). */
function grpcError(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  if (stream.headersSent || stream.destroyed) return;
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': message },
    { endStream: true },
  );
}

export function startTemporalFront(spec: FrontSpec): Promise<http2.Http2SecureServer> {
  const clientCa = spec.clientCaPath ? readFileSync(spec.clientCaPath) : undefined;
  const apiKey = spec.apiKeySha256 ? Buffer.from(spec.apiKeySha256, 'hex') : undefined;
  const server = http2.createSecureServer({
    cert: readFileSync(spec.certPath),
    key: readFileSync(spec.keyPath),
    ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    ALPNProtocols: ['h2'],
  });
  // One upstream connection per client connection: a worker's long polls never queue behind another's.
  const upstreams = new WeakMap<http2.Http2Session, http2.ClientHttp2Session>();
  server.on('session', (session) => {
    const upstream = http2.connect(`http://${spec.upstream.host}:${spec.upstream.port}`);
    upstream.on('error', () => session.destroy());
    upstream.on('close', () => session.destroy());
    session.on('error', () => {});
    session.on('close', () => upstream.destroy());
    upstreams.set(session, upstream);
  });
  server.on('tlsClientError', () => {});
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    if (apiKey) {
      const given = String(headers.authorization ?? '').replace(/^Bearer /i, '');
      const hash = createHash('sha256').update(given).digest();
      if (!timingSafeEqual(hash, apiKey))
        return grpcError(stream, 16, 'repro: missing or wrong API key (temporal.apiKey)');
    }
    const upstream = upstreams.get(stream.session!);
    if (!upstream || upstream.destroyed)
      return grpcError(stream, 14, 'repro: the Temporal dev server is not reachable');
    const req = upstream.request(forwardable(headers, ['authorization']));
    req.on('error', () => grpcError(stream, 14, 'repro: the Temporal dev server is not reachable'));
    let trailers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => {
      if (stream.destroyed) return;
      // A reply whose first headers carry the status is complete (gRPC's trailers-only form).
      if (h['grpc-status'] !== undefined) return void stream.respond(forwardable(h), { endStream: true });
      stream.respond(forwardable(h), { waitForTrailers: true });
      req.pipe(stream);
    });
    req.on('trailers', (t) => (trailers = t));
    stream.on('wantTrailers', () => stream.sendTrailers(forwardable(trailers)));
    req.on('close', () => {
      if (req.rstCode !== undefined && req.rstCode !== NGHTTP2_NO_ERROR && !stream.destroyed) stream.close(req.rstCode);
    });
    stream.on('close', () => {
      if (!req.closed) req.close(NGHTTP2_CANCEL);
    });
    stream.pipe(req);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(spec.listen.port, spec.listen.host, () => resolve(server));
  });
}

if (require.main === module) {
  const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as FrontSpec;
  startTemporalFront(spec).then(
    () => {
      process.stdout.write(`temporal-front on ${spec.listen.host}:${spec.listen.port}\n`);
      // Open long polls would hold a graceful close for a minute; clients reconnect to the next front.
      process.on('SIGTERM', () => process.exit(0));
    },
    (err: Error) => {
      process.stderr.write(`temporal-front: ${err.message}\n`);
      process.exit(1);
    },
  );
}
