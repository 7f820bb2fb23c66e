import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { ConfigError, looksSecret, resolveConfigWithOrigins, type ReproConfig } from '../temporal.config';
import { withInstallCredentials } from './s3-credentials';
import { loadTemporalProfile } from './temporal-profile';

/** Default config file looked up in the working directory. */
export const DEFAULT_CONFIG_FILE = 'repro.config.json';

/**
 * Read the config file (explicit `--config`, else `repro.config.json` if present), the
 * environment and `--conf key=value` flags, and resolve them; S3 keys left at their defaults
 * become this install's generated ones when `repro up` made any. The one place that reads env.
 */
export function loadConfig(
  opts: { configFile?: string; conf?: string[] } = {},
  env: NodeJS.ProcessEnv = process.env,
): ReproConfig {
  return loadConfigWithOrigins(opts, env).config;
}

/**
 * {@link loadConfig}, and where each key's value came from. The Temporal CLI's client config profile
 * (`TEMPORAL_PROFILE`, else `default`, from `TEMPORAL_CONFIG_FILE` or its default file) is the lowest
 * layer above the defaults: repro's config file, environment and flags win over it where both set a key.
 */
export function loadConfigWithOrigins(
  opts: { configFile?: string; conf?: string[] } = {},
  env: NodeJS.ProcessEnv = process.env,
): { config: ReproConfig; origins: Record<string, string> } {
  if (opts.configFile === '') throw new ConfigError('--config is empty: give the path of a JSON config file');
  const file =
    opts.configFile || env.REPRO_CONFIG || (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const given = opts.configFile ? '--config' : env.REPRO_CONFIG ? 'REPRO_CONFIG' : DEFAULT_CONFIG_FILE;
  let content: { path: string; content: unknown } | undefined;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`;
      throw new ConfigError(`config file ${file} ${why}; check the path given by ${given}`);
    }
    try {
      content = { path: file, content: JSON.parse(text) };
    } catch (err) {
      throw new ConfigError(`config file ${file} is not valid JSON (${jsonProblem(text, err as Error)}); fix it there`);
    }
  }
  const flags: Record<string, string> = {};
  for (const pair of opts.conf ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      // `--conf s3.secretAccessKey:abc` holds a secret in the wrong syntax: never echoed.
      const shown = looksSecret(pair) ? 'a value' : `'${pair}'`;
      throw new ConfigError(`--conf takes key=value, not ${shown}; e.g. --conf temporal.address=127.0.0.1:7233`);
    }
    flags[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const profile = loadTemporalProfile(env);
  const { config: merged, origins } = resolveConfigWithOrigins({ profile, file: content, env, flags });
  const config = checkValues(merged, origins);
  const grpcMeta = { ...profile?.grpcMeta };
  // The Temporal CLI's TEMPORAL_GRPC_META_<NAME> (x_tenant -> x-tenant); an empty one removes the header.
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('TEMPORAL_GRPC_META_')) continue;
    const header = name.slice('TEMPORAL_GRPC_META_'.length).toLowerCase().replace(/_/g, '-');
    if (value) grpcMeta[header] = value;
    else delete grpcMeta[header];
  }
  if (Object.keys(grpcMeta).length) config.temporal.grpcMeta = grpcMeta;
  // Relative folders are taken from the project root, so commands work from any directory.
  const root = path.resolve(__dirname, '..', '..');
  const resolved = {
    ...config,
    dataDir: path.resolve(root, config.dataDir),
    toolsDir: path.resolve(root, config.toolsDir),
  };
  // S3 keys left at their defaults: the ones `repro up` made for this install, if it made any.
  const withCreds = withInstallCredentials(resolved);
  if (withCreds.s3.accessKeyId !== resolved.s3.accessKeyId)
    for (const key of ['s3.accessKeyId', 's3.secretAccessKey']) origins[key] = 'install credentials (`repro up`)';
  return { config: withCreds, origins };
}

/**
 * Where a config file stops being JSON, as line and column; never the text around it, which may
 * hold a secret (Node's own message quotes the file).
 */
function jsonProblem(text: string, err: Error): string {
  const at = /at position (\d+)/.exec(err.message);
  const what = err.message.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
  if (!at) return what;
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  return `${what} at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
}

/**
 * Values whose form the schema's types do not catch, checked before anything connects: a
 * malformed Temporal address would otherwise surface as a connection error.
 */
function checkValues(config: ReproConfig, origins: Record<string, string>): ReproConfig {
  const address = config.temporal.address;
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?):(\d{1,5})$/.exec(address);
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535)
    throw new ConfigError(
      `config key 'temporal.address' must be host:port, e.g. 127.0.0.1:7233 or temporal.example.com:7233, ` +
        `got ${JSON.stringify(address)} (from ${origins['temporal.address']})`,
    );
  if (config.codec.key && Buffer.from(config.codec.key, 'base64').length !== 32)
    throw new ConfigError(
      "config key 'codec.key' must be 32 bytes in base64 (its value is not shown); " +
        'make one with: openssl rand -base64 32',
    );
  return config;
}
