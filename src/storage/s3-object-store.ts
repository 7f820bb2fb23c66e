import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'crypto';
import type { Readable } from 'stream';
import { SharedBufferHash } from './background-hasher';
import { sha256Hex, sha256HexInterleaved } from './hashing';
import { ObjectNotFoundError, type ObjectInfo, type ObjectStore } from './object-store';

/** Objects larger than this go up as parallel multipart uploads. */
const MULTIPART_THRESHOLD = 16 * 1024 * 1024;

/** Where the store lives: a bucket and a key prefix inside it. */
export interface S3Location {
  bucket: string;
  prefix: string;
}

/** Downloads this large are hashed on the hasher thread; smaller ones inline (a message round trip costs more). */
const BACKGROUND_HASH_MIN = 1024 * 1024;
/** How often the download tells the hasher thread how far it got. */
const HASH_STEP = 1024 * 1024;

/** {@link ObjectStore} on any S3-compatible server through `@aws-sdk/client-s3`. */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    private readonly location: S3Location,
  ) {}

  private full(key: string): string {
    return this.location.prefix + key;
  }

  async put(key: string, body: Uint8Array, contentType = 'application/octet-stream'): Promise<string> {
    const params = { Bucket: this.location.bucket, Key: this.full(key), Body: body, ContentType: contentType };
    if (body.byteLength < MULTIPART_THRESHOLD) {
      // The object carries its SHA-256 as an S3 checksum: the server verifies the bytes on
      // arrival and anyone can read the hash back (HeadObject with ChecksumMode ENABLED).
      const sha256 = sha256Hex(body);
      await this.client.send(
        new PutObjectCommand({ ...params, ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64') }),
      );
      return sha256;
    }
    // S3 makes a multipart object visible only on CompleteMultipartUpload: no partial reads.
    // Each part carries the SDK's CRC32 checksum, verified by the server; the whole-object
    // SHA-256 is computed in slices while the parts are in flight (checkpoint manifests hold it).
    const upload = new Upload({ client: this.client, params, queueSize: 4, partSize: 8 * 1024 * 1024 }).done();
    const [, sha256] = await Promise.all([upload, hashWhileUploading(body)]);
    return sha256;
  }

  async putIfAbsent(key: string, body: Uint8Array, contentType = 'application/octet-stream'): Promise<boolean> {
    try {
      // S3 conditional write (AWS since 2024, MinIO): 412 when an object has the key.
      const sha256 = Buffer.from(sha256Hex(body), 'hex').toString('base64');
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.location.bucket,
          Key: this.full(key),
          Body: body,
          ContentType: contentType,
          ChecksumSHA256: sha256,
          IfNoneMatch: '*',
        }),
      );
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || (err as Error).name === 'PreconditionFailed') return false;
      throw err;
    }
  }

  async get(key: string): Promise<Uint8Array> {
    return (await this.getHashed(key)).bytes;
  }

  async getHashed(key: string): Promise<{ bytes: Uint8Array; sha256: string }> {
    let body: Readable, declared: number | undefined;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.full(key) }));
      body = out.Body as Readable;
      declared = out.ContentLength;
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey')
        throw new ObjectNotFoundError(key);
      throw err;
    }
    // Copy each chunk straight into a buffer of the declared length, shared with the hasher
    // thread, which hashes behind the copy: verification adds no pass and little wall time.
    if (declared !== undefined && declared >= BACKGROUND_HASH_MIN) {
      const bytes = new Uint8Array(new SharedArrayBuffer(declared));
      const hash = new SharedBufferHash(bytes.buffer as SharedArrayBuffer);
      let length = 0,
        told = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (length + chunk.length > declared)
          throw new Error(`${key}: the server sent more than the ${declared} bytes it declared`);
        bytes.set(chunk, length);
        length += chunk.length;
        if (length - told >= HASH_STEP) {
          hash.filled(length);
          told = length;
        }
      }
      if (length !== declared) throw new Error(`${key}: got ${length} of ${declared} bytes`);
      return { bytes, sha256: await hash.digest(length) };
    }
    const hash = createHash('sha256');
    let bytes = new Uint8Array(declared ?? 0);
    let length = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      hash.update(chunk);
      if (length + chunk.length > bytes.length) {
        const grown = new Uint8Array(Math.max(2 * bytes.length, length + chunk.length));
        grown.set(bytes.subarray(0, length));
        bytes = grown;
      }
      bytes.set(chunk, length);
      length += chunk.length;
    }
    return { bytes: length === bytes.length ? bytes : bytes.slice(0, length), sha256: hash.digest('hex') };
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.listDetailed(prefix)).map((o) => o.key);
  }

  async listDetailed(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: this.full(prefix),
          ContinuationToken: token,
        }),
      );
      for (const item of page.Contents ?? []) {
        out.push({
          key: item.Key!.slice(this.location.prefix.length),
          size: item.Size ?? 0,
          modified: item.LastModified ?? new Date(0),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.full(key) }));
  }

  url(key: string): string {
    return `s3://${this.location.bucket}/${this.full(key)}`;
  }
}

/** A body in shared memory is hashed on the hasher thread; any other in slices between I/O. */
function hashWhileUploading(body: Uint8Array): Promise<string> {
  if (!(body.buffer instanceof SharedArrayBuffer) || body.byteOffset !== 0) return sha256HexInterleaved(body);
  const hash = new SharedBufferHash(body.buffer);
  return hash.digest(body.byteLength);
}
