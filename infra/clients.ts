import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { dataConverterFor } from './codec';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { createHash } from 'crypto';
import { existsSync, readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import type { ReproConfig } from '../temporal.config';
import { S3ObjectStore } from '../src/storage/s3-object-store';

/** A failure to reach a service, with the fix in the message. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

export function makeS3Client(config: ReproConfig): S3Client {
  // The SDK's notice that its 2027 releases need Node 22 is not actionable here (the README says it).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: config.s3.endpoint || undefined,
    region: config.s3.region,
    forcePathStyle: config.s3.forcePathStyle,
    // Empty keys: the standard AWS chain (environment, shared files, SSO, web identity, instance and container roles).
    ...(config.s3.accessKeyId
      ? { credentials: { accessKeyId: config.s3.accessKeyId, secretAccessKey: config.s3.secretAccessKey } }
      : {}),
    maxAttempts: 3,
  });
}

export function makeObjectStore(config: ReproConfig, client = makeS3Client(config)): S3ObjectStore {
  return new S3ObjectStore(client, { bucket: config.s3.bucket, prefix: config.s3.prefix });
}

/** Check that the bucket answers; with `create`, make it if it is missing. */
export async function checkS3(config: ReproConfig, create = false): Promise<void> {
  const client = makeS3Client(config);
  try {
    await client.send(new HeadBucketCommand({ Bucket: config.s3.bucket }));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 && create) {
      await client.send(new CreateBucketCommand({ Bucket: config.s3.bucket }));
      return;
    }
    if (status === 404)
      throw new UnreachableError(
        `S3 bucket '${config.s3.bucket}' does not exist at ${config.s3.endpoint}; create it or run \`repro up\``,
      );
    if (status === 403)
      throw new UnreachableError(
        `S3 at ${config.s3.endpoint} refused the credentials for bucket '${config.s3.bucket}'; ` +
          `set REPRO_S3_ACCESS_KEY_ID and REPRO_S3_SECRET_ACCESS_KEY`,
      );
    throw new UnreachableError(
      `cannot reach S3 at ${config.s3.endpoint || 'AWS'} ` +
        `(${(err as Error).name}: ${(err as Error).message.split('\n')[0]}); ` +
        `start the embedded stack with \`repro up\` or set s3.endpoint`,
    );
  } finally {
    client.destroy();
  }
}

/** TLS is on when enabled or implied by a CA, a client certificate, a server name or an API key. */
function tlsOn(config: ReproConfig): boolean {
  const t = config.temporal.tls;
  return t.enabled || Boolean(t.caPath || t.certPath || t.serverName || config.temporal.apiKey);
}

/**
 * How every client and worker reaches Temporal: address, TLS (server CA, mTLS client pair,
 * server name), API key and gRPC metadata from the config; a missing or unreadable file is a one-line error.
 */
export function connectionOptions(config: ReproConfig): {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
  metadata?: Record<string, string>;
} {
  const t = config.temporal.tls;
  const read = (key: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new UnreachableError(
        `config key 'temporal.tls.${key}': ` +
          `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  };
  if (Boolean(t.certPath) !== Boolean(t.keyPath)) {
    throw new UnreachableError(
      `mTLS needs both temporal.tls.certPath and temporal.tls.keyPath ` +
        `(${t.certPath ? 'keyPath' : 'certPath'} is empty)`,
    );
  }
  const tls: TLSConfig | undefined = tlsOn(config)
    ? {
        ...(t.serverName ? { serverNameOverride: t.serverName } : {}),
        ...(t.caPath ? { serverRootCACertificate: read('caPath', t.caPath) } : {}),
        ...(t.certPath
          ? { clientCertPair: { crt: read('certPath', t.certPath), key: read('keyPath', t.keyPath) } }
          : {}),
      }
    : undefined;
  return {
    address: config.temporal.address,
    ...(tls ? { tls } : {}),
    ...(config.temporal.apiKey ? { apiKey: config.temporal.apiKey } : {}),
    ...(config.temporal.grpcMeta ? { metadata: { ...config.temporal.grpcMeta } } : {}),
  };
}

/** Connect to Temporal, failing within a few seconds with the fix if it is not there. */
export async function connectTemporal(config: ReproConfig): Promise<{ connection: Connection; client: Client }> {
  const options = connectionOptions(config);
  try {
    const connection = await Connection.connect({ ...options, connectTimeout: '4s' });
    await connection.workflowService.getSystemInfo({});
    return {
      connection,
      client: new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverterFor(config) }),
    };
  } catch (err) {
    throw temporalUnreachable(config, err as Error);
  }
}

/**
 * A failed connection to Temporal as one line with the fix, for the client's errors and the
 * worker's (whose native layer words them as a Rust chain: `tonic::transport::Error(...)`).
 */
export function temporalUnreachable(config: ReproConfig, err: Error): UnreachableError {
  // The SDK wraps the server's answer ("16 UNAUTHENTICATED: ..." from an authenticating front) in its cause.
  const cause = (err as { cause?: Error }).cause;
  const first = `${err.message}${cause ? `: ${cause.message}` : ''}`.split('\n')[0]!;
  // The native chain's innermost words say most: `message: "Connection refused"`, or a DNS error.
  const inner = [...err.message.matchAll(/(?:message|error): "([^"]+)"/g)].map((m) => m[1]!);
  const why = /^tonic::/.test(first) ? (inner.at(-1) ?? /"([^"]+)"/.exec(first)?.[1] ?? first.slice(0, 160)) : first;
  if (tlsOn(config))
    return new UnreachableError(
      `cannot reach Temporal at ${config.temporal.address} over TLS (${why}); ` +
        `check temporal.address and temporal.tls.* (CA, client certificate, server name)`,
    );
  return new UnreachableError(
    `cannot reach Temporal at ${config.temporal.address} (${why}); ` +
      `start the embedded stack with \`repro up\` or set temporal.address`,
  );
}

let cachedVersion: string | undefined;

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(full) : e.name.endsWith('.js') ? [full] : [];
  });
}

/**
 * The torch addon's build identity (the SHA-256 prefix of its C++ sources, which
 * infra/scripts/build-torch.sh records beside it), a hash of the binary for a build that predates
 * it, or `absent`. Where it is looked for: REPRO_TORCH_ADDON, else REPRO_TOOLS_DIR or the
 * install's .tools, as the torch backend loads it.
 */
export function torchAddonBuild(root: string): string {
  const addon = process.env.REPRO_TORCH_ADDON
    ? path.resolve(process.env.REPRO_TORCH_ADDON)
    : path.join(
        process.env.REPRO_TOOLS_DIR ? path.resolve(process.env.REPRO_TOOLS_DIR) : path.join(root, '.tools'),
        'torch',
        'repro_torch.node',
      );
  try {
    const info = JSON.parse(readFileSync(path.join(path.dirname(addon), 'build-info.json'), 'utf8')) as {
      build?: string;
    };
    if (info.build) return info.build;
  } catch {
    // no build record: the binary itself, below
  }
  if (!existsSync(addon)) return 'absent';
  return `binary-${createHash('sha256').update(readFileSync(addon)).digest('hex').slice(0, 16)}`;
}

/**
 * The identity of the code that computes, recorded with every result and part of every cache
 * key: the package version and a SHA-256 over the built code of src/, activities/ and
 * workflows/, the torch addon's build (its native programs compute too) and the versions of the
 * installed runtime dependencies (tfjs and its backends among them). Any change to what computes
 * changes it, committed or not, with or without git; a change to the CLI or the tests does not.
 */
export function codeVersion(distRoot = path.resolve(__dirname, '..')): string {
  if (cachedVersion && distRoot === path.resolve(__dirname, '..')) return cachedVersion;
  const root = path.resolve(distRoot, '..');
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version: string;
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  const hash = createHash('sha256');
  for (const file of ['src', 'activities', 'workflows'].flatMap((d) => filesUnder(path.join(distRoot, d))).sort()) {
    hash.update(path.relative(distRoot, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  hash.update(`torch-addon@${torchAddonBuild(root)}\n`);
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }).sort()) {
    let version = 'absent';
    try {
      version = (
        JSON.parse(readFileSync(path.join(root, 'node_modules', dep, 'package.json'), 'utf8')) as { version: string }
      ).version;
    } catch {
      // an optional dependency that did not install (tfjs-node where libtensorflow cannot be fetched)
    }
    hash.update(`${dep}@${version}\n`);
  }
  const version = `repro@${pkg.version}+code.${hash.digest('hex').slice(0, 16)}`;
  if (distRoot === path.resolve(__dirname, '..')) cachedVersion = version;
  return version;
}
