import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { ReproConfig } from '../temporal.config';

const ENCODING = 'binary/encrypted';
const PayloadProto = temporal.api.common.v1.Payload;

/** Thrown for a payload this codec cannot open (another key, tampering); names the fix. */
export class CodecError extends Error {
  override name = 'CodecError';
}

/**
 * Payload encryption (AES-256-GCM) with a key from the environment (`codec.key`, REPRO_CODEC_KEY:
 * 32 bytes, base64). Every payload a client or worker sends (workflow and activity inputs and
 * results, heartbeats, memos, queries, failures' details, messages and stack traces) is stored by
 * the server as ciphertext; the Web UI shows it through `repro codec-server`, run by whoever holds
 * the key. A payload without the codec's tag is refused, not passed through: whoever can write to
 * a history (a signal, a start from another client) cannot hand the workers plaintext input.
 */
export class AesGcmCodec implements PayloadCodec {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32)
      throw new CodecError(
        `codec.key must be 32 bytes in base64 (got ${key.length} bytes); make one with: openssl rand -base64 32`,
      );
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.key, iv);
      const sealed = Buffer.concat([
        iv,
        cipher.update(PayloadProto.encode(p).finish()),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return {
        metadata: { encoding: Buffer.from(ENCODING), 'encryption-key-id': Buffer.from(this.keyId) },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const encoding = Buffer.from(p.metadata?.encoding ?? []).toString();
      if (encoding !== ENCODING)
        throw new CodecError(
          `payload is not encrypted (encoding '${encoding || 'none'}') but codec.key is set: refused; ` +
            `it was written by a client without the key`,
        );
      const id = Buffer.from(p.metadata?.['encryption-key-id'] ?? []).toString();
      if (id !== this.keyId)
        throw new CodecError(
          `payload encrypted with key ${id}, this codec holds key ${this.keyId}: ` +
            `set codec.key to the key the run was started with`,
        );
      const data = Buffer.from(p.data ?? []);
      try {
        const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, 12));
        decipher.setAuthTag(data.subarray(data.length - 16));
        return PayloadProto.decode(
          Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]),
        );
      } catch {
        throw new CodecError(
          `payload with key id ${id} does not authenticate: it was altered, or encrypted under another key`,
        );
      }
    });
  }
}

/** The configured codec, or undefined when `codec.key` is empty. */
export function codecFor(config: ReproConfig): AesGcmCodec | undefined {
  return config.codec.key ? new AesGcmCodec(Buffer.from(config.codec.key, 'base64')) : undefined;
}

/**
 * The data converter every client and worker uses: the default one; with the codec when
 * configured, and a failure converter that moves failure messages and stack traces into an
 * encrypted payload (the server keeps "Encoded failure" and the failure's type in the clear).
 */
export function dataConverterFor(config: ReproConfig): DataConverter {
  const codec = codecFor(config);
  return codec ? { payloadCodecs: [codec], failureConverterPath: require.resolve('./failure-converter') } : {};
}
