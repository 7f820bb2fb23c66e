import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ObjectNotFoundError, type ObjectStore } from './object-store';

/** Objects larger than this go up as parallel multipart uploads. */
const MULTIPART_THRESHOLD = 16 * 1024 * 1024;

/** Where the store lives: a bucket and a key prefix inside it. */
export interface S3Location {
  bucket: string;
  prefix: string;
}

/** {@link ObjectStore} on any S3-compatible server through `@aws-sdk/client-s3`. */
export class S3ObjectStore implements ObjectStore {
  constructor(private readonly client: S3Client, private readonly location: S3Location) {}

  private full(key: string): string {
    return this.location.prefix + key;
  }

  async put(key: string, body: Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    const params = { Bucket: this.location.bucket, Key: this.full(key), Body: body, ContentType: contentType };
    if (body.byteLength < MULTIPART_THRESHOLD) {
      await this.client.send(new PutObjectCommand(params));
      return;
    }
    // S3 makes a multipart object visible only on CompleteMultipartUpload: no partial reads.
    await new Upload({ client: this.client, params, queueSize: 4, partSize: 8 * 1024 * 1024 }).done();
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.full(key) }));
      return await out.Body!.transformToByteArray();
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({
        Bucket: this.location.bucket, Prefix: this.full(prefix), ContinuationToken: token,
      }));
      for (const item of page.Contents ?? []) keys.push(item.Key!.slice(this.location.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.full(key) }));
  }

  url(key: string): string {
    return `s3://${this.location.bucket}/${this.full(key)}`;
  }
}
