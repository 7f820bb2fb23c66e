import { randomBytes } from 'crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { ConfigError, SCHEMA, type ReproConfig } from '../temporal.config';

/**
 * Per-install S3 credentials of the embedded MinIO server. `repro up` makes them (file mode 0600,
 * in the data folder) the first time it serves other hosts, and keeps them: the published
 * default keys are never the root credentials of a server others can reach. The config layer
 * reads them on this machine wherever the S3 keys are left at their defaults.
 */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export function credentialsFile(dataDir: string): string {
  return path.join(dataDir, 's3-credentials.json');
}

/** True when the config's S3 keys are the published defaults (nobody chose them). */
export function hasDefaultS3Keys(config: ReproConfig): boolean {
  return (
    config.s3.accessKeyId === SCHEMA['s3.accessKeyId']!.default &&
    config.s3.secretAccessKey === SCHEMA['s3.secretAccessKey']!.default
  );
}

/** This install's credentials, if `repro up` made any; an unreadable file is a one-line error. */
function readInstallCredentials(dataDir: string): S3Credentials | undefined {
  const file = credentialsFile(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    const { accessKeyId, secretAccessKey } = JSON.parse(readFileSync(file, 'utf8')) as Partial<S3Credentials>;
    if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string') throw new Error('keys missing');
    return { accessKeyId, secretAccessKey };
  } catch (err) {
    throw new ConfigError(
      `${file} (this install's S3 keys) cannot be read: ${(err as Error).message}; ` +
        'remove it and `repro down && repro up` makes new ones',
    );
  }
}

/** True when the config's S3 keys are this install's generated ones. */
export function usesInstallCredentials(config: ReproConfig): boolean {
  return readInstallCredentials(config.dataDir)?.accessKeyId === config.s3.accessKeyId;
}

/** The config with this install's credentials in place of the default keys, if it has any. */
export function withInstallCredentials(config: ReproConfig): ReproConfig {
  const creds = hasDefaultS3Keys(config) ? readInstallCredentials(config.dataDir) : undefined;
  return creds ? { ...config, s3: { ...config.s3, ...creds } } : config;
}

/** This install's credentials, made now if there are none yet; returns the config that uses them. */
export function ensureInstallCredentials(config: ReproConfig): ReproConfig {
  if (!hasDefaultS3Keys(config)) return config;
  const file = credentialsFile(config.dataDir);
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    const creds: S3Credentials = {
      accessKeyId: `repro-${randomBytes(6).toString('hex')}`,
      secretAccessKey: randomBytes(30).toString('base64url'),
    };
    writeFileSync(file, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  }
  return withInstallCredentials(config);
}
