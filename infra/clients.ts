import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { execFileSync } from 'child_process';
import { readFileSync } from 'fs';
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
    credentials: { accessKeyId: config.s3.accessKeyId, secretAccessKey: config.s3.secretAccessKey },
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
    if (status === 404) throw new UnreachableError(`S3 bucket '${config.s3.bucket}' does not exist at ${config.s3.endpoint}; create it or run \`repro up\``);
    if (status === 403) throw new UnreachableError(`S3 at ${config.s3.endpoint} refused the credentials for bucket '${config.s3.bucket}'; set REPRO_S3_ACCESS_KEY_ID and REPRO_S3_SECRET_ACCESS_KEY`);
    throw new UnreachableError(`cannot reach S3 at ${config.s3.endpoint || 'AWS'} (${(err as Error).name}: ${(err as Error).message.split('\n')[0]}); start the embedded stack with \`repro up\` or set s3.endpoint`);
  } finally {
    client.destroy();
  }
}

/** Connect to Temporal, failing within a few seconds with the fix if it is not there. */
export async function connectTemporal(config: ReproConfig): Promise<{ connection: Connection; client: Client }> {
  try {
    const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '4s' });
    await connection.workflowService.getSystemInfo({});
    return { connection, client: new Client({ connection, namespace: config.temporal.namespace }) };
  } catch (err) {
    throw new UnreachableError(`cannot reach Temporal at ${config.temporal.address} (${(err as Error).message.split('\n')[0]}); start the embedded stack with \`repro up\` or set temporal.address`);
  }
}

let cachedVersion: string | undefined;
/** Package version plus the git commit when run from a checkout: recorded with every result. */
export function codeVersion(): string {
  if (cachedVersion) return cachedVersion;
  const root = path.resolve(__dirname, '..', '..');
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  let commit = 'nogit';
  try {
    commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (dirty) commit += '-dirty';
  } catch {
    // Not a git checkout (an installed package): the version alone identifies the code.
  }
  cachedVersion = `repro@${pkg.version}+${commit}`;
  return cachedVersion;
}
