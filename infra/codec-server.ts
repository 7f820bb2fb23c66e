import { createHash, timingSafeEqual } from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { isLoopback } from './stack/processes';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

/** How `repro codec-server` answers (config `codec.*`). */
export interface CodecServerOptions {
  port: number;
  /** The one browser origin answered (the Web UI's); a request from any other origin is refused. */
  uiOrigin: string;
  /** Loopback unless told otherwise: the server decrypts for whoever reaches it. */
  host?: string;
  /** Bearer token every /encode and /decode must carry (empty: none). */
  token?: string;
  /** Largest request body read; a larger one is refused with 413 before it is buffered. */
  maxBodyBytes?: number;
  /** Serve /encode (off: only /decode). */
  encode?: boolean;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Temporal's remote codec protocol: POST /decode (and /encode when enabled) with
 * `{ payloads: [...] }` (proto3 JSON: bytes in base64), so that the Web UI shows decrypted inputs,
 * results and heartbeats to whoever runs this server with the key. Refused (one JSON line
 * `{ error }`): a Host header that is not this server's own address (DNS rebinding), an Origin
 * other than the UI's, a missing or wrong bearer token when one is configured, a body over the limit.
 */
export function startCodecServer(codec: PayloadCodec, options: CodecServerOptions): Promise<http.Server> {
  const host = options.host ?? '127.0.0.1';
  const uiOrigin = options.uiOrigin.replace(/\/+$/, '');
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const token = options.token ? digest(`Bearer ${options.token}`) : undefined;
  let ownHosts = new Set<string>();
  const server = http.createServer((req, res) => {
    const refuse = (status: number, error: string): void => {
      // Whatever of the body is still coming is read and dropped, never kept. No `connection: close`:
      // closing with unread body in the socket resets it, and the client could lose this answer.
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
      req.resume();
    };
    if (!ownHosts.has((req.headers.host ?? '').toLowerCase()))
      return refuse(403, `Host ${req.headers.host ?? '(none)'} is not this server's address`);
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== uiOrigin)
      return refuse(403, `origin ${origin} is not the Web UI's (${uiOrigin}, config codec.uiOrigin)`);
    res.setHeader('Access-Control-Allow-Origin', uiOrigin);
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'content-type, x-namespace, authorization');
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const op = req.url?.replace(/\?.*$/, '').replace(/\/+$/, '');
    const ops = options.encode ? ['/decode', '/encode'] : ['/decode'];
    if (req.method !== 'POST' || !ops.includes(op ?? ''))
      return refuse(
        404,
        options.encode ? 'POST /encode or /decode' : 'POST /decode (/encode is off: codec.serverEncode)',
      );
    if (token) {
      const given = digest(req.headers.authorization ?? '');
      if (!timingSafeEqual(given, token)) return refuse(401, 'missing or wrong bearer token (codec.serverToken)');
    }
    if (Number(req.headers['content-length'] ?? 0) > maxBody)
      return refuse(413, `body over ${maxBody} bytes (codec.serverMaxBodyBytes)`);
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size <= maxBody) return void chunks.push(c);
      req.off('data', onData);
      chunks.length = 0;
      refuse(413, `body over ${maxBody} bytes (codec.serverMaxBodyBytes)`);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (size > maxBody) return;
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads?: JsonPayload[] };
          if (!Array.isArray(body.payloads)) throw new Error('body must be { "payloads": [...] }');
          const payloads = body.payloads.map(fromJson);
          const out = op === '/encode' ? await codec.encode(payloads) : await codec.decode(payloads);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ payloads: out.map(toJson) }));
        } catch (err) {
          res
            .writeHead(400, { 'content-type': 'application/json' })
            .end(JSON.stringify({ error: (err as Error).message.split('\n')[0] }));
        }
      })();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      const port = (server.address() as AddressInfo).port;
      const names = isLoopback(host) ? [host, '127.0.0.1', 'localhost', '[::1]'] : [host];
      ownHosts = new Set(names.map((h) => `${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${port}`));
      resolve(server);
    });
  });
}
