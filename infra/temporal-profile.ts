import { fromTomlConfig, type ClientConfigProfile } from '@temporalio/envconfig';
import { loadFromTomlData, type TomlClientConfig } from '@temporalio/envconfig/lib/envconfig-toml';
import { readFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError } from '../temporal.config';

/** The Temporal CLI's client config profile as a layer of repro's config: dotted keys, and where they came from. */
export interface TemporalProfileLayer {
  /** `profile 'NAME' in FILE`, for messages and `repro config`. */
  origin: string;
  /** Values by config key (`temporal.address`, `temporal.tls.caPath`, ...). */
  values: Record<string, string | boolean>;
  /** gRPC metadata the profile sends with every call (header names lower-case). */
  grpcMeta: Record<string, string>;
}

/**
 * The file the Temporal CLI reads its profiles from: `TEMPORAL_CONFIG_FILE`, else
 * `temporalio/temporal.toml` in the user's config folder (as `@temporalio/envconfig` finds it).
 */
export function temporalConfigFile(env: NodeJS.ProcessEnv): { file: string; given: string } | undefined {
  if (env.TEMPORAL_CONFIG_FILE) return { file: env.TEMPORAL_CONFIG_FILE, given: 'TEMPORAL_CONFIG_FILE' };
  let dir: string | undefined;
  if (os.platform() === 'win32') dir = env.APPDATA || undefined;
  else if (os.platform() === 'darwin')
    dir = env.HOME ? path.join(env.HOME, 'Library', 'Application Support') : undefined;
  else if (env.XDG_CONFIG_HOME) dir = path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined;
  else dir = env.HOME ? path.join(env.HOME, '.config') : undefined;
  return dir ? { file: path.join(dir, 'temporalio', 'temporal.toml'), given: 'the default path' } : undefined;
}

/**
 * Read the profile the Temporal CLI would use (`TEMPORAL_PROFILE`, else `default`) from its config
 * file. No file, or no `default` profile when none is named: no layer. A file that does not parse, a
 * named profile that is not there, or a setting repro cannot honour: a {@link ConfigError} naming the
 * file and the profile. The CLI's `TEMPORAL_*` variables are not applied here: repro reads them
 * itself, in its environment layer, which wins over this one as they win over the profile in the CLI.
 */
export function loadTemporalProfile(env: NodeJS.ProcessEnv): TemporalProfileLayer | undefined {
  const where = temporalConfigFile(env);
  const named = env.TEMPORAL_PROFILE || undefined;
  const name = named ?? 'default';
  if (!where) {
    if (named)
      throw new ConfigError(
        `TEMPORAL_PROFILE names profile '${named}' but no Temporal config file is set; ` +
          'set TEMPORAL_CONFIG_FILE or unset TEMPORAL_PROFILE',
      );
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(where.file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !named && where.given !== 'TEMPORAL_CONFIG_FILE') return undefined;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`;
    throw new ConfigError(
      `Temporal config file ${where.file} (${where.given}) ${why}; ` +
        (where.given === 'TEMPORAL_CONFIG_FILE'
          ? 'fix or unset TEMPORAL_CONFIG_FILE'
          : 'create it or unset TEMPORAL_PROFILE'),
    );
  }
  let raw: TomlClientConfig;
  try {
    raw = loadFromTomlData(text, false);
  } catch (err) {
    // smol-toml's message has the line and column and then quotes the file, which may hold an API key.
    const { message, line, column } = err as Error & { line?: number; column?: number };
    const first = message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    const at = line !== undefined ? ` at line ${line}${column !== undefined ? `, column ${column}` : ''}` : '';
    throw new ConfigError(
      `Temporal config file ${where.file} (${where.given}) is not valid TOML (${first}${at}); ` +
        'fix it there or set TEMPORAL_CONFIG_FILE to another file',
    );
  }
  // A file without profiles (empty, comments only) has none; a misshapen one is named before the SDK trips on it.
  const table = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
  const misshapen = (what: string): never => {
    throw new ConfigError(
      `Temporal config file ${where.file} (${where.given}): ${what} must be a table ([${what}]); fix it there`,
    );
  };
  const rawProfiles = raw.profile ?? {};
  if (!table(rawProfiles)) misshapen('profile');
  for (const [k, v] of Object.entries(rawProfiles)) {
    if (!table(v)) misshapen(`profile.${k}`);
    for (const sub of ['tls', 'grpc_meta'] as const)
      if (v[sub] !== undefined && !table(v[sub])) misshapen(`profile.${k}.${sub}`);
  }
  const profiles: Record<string, ClientConfigProfile> = fromTomlConfig({ profile: rawProfiles }).profiles;
  const profile = profiles[name];
  const origin = `profile '${name}' in ${where.file}`;
  if (!profile) {
    if (!named) return undefined;
    const known = Object.keys(profiles);
    throw new ConfigError(
      `TEMPORAL_PROFILE names profile '${named}', which ${where.file} does not have ` +
        `(${known.length ? `it has ${known.map((k) => `'${k}'`).join(', ')}` : 'it has no profiles'}); ` +
        `add [profile.${named}] there or set TEMPORAL_PROFILE to one it has`,
    );
  }
  // In the CLI's format, but the TypeScript SDK has no way to turn the check off: ignored, it would fail
  // later as a certificate error.
  if (raw.profile?.[name]?.tls?.disable_host_verification === true)
    throw new ConfigError(
      `Temporal ${origin}: repro cannot disable host verification (the TypeScript SDK does not expose it); ` +
        'remove tls.disable_host_verification and set tls.server_name to the name on the server certificate',
    );
  return { origin, values: profileValues(profile, origin), grpcMeta: { ...(profile.grpcMeta ?? {}) } };
}

/** A profile's settings as repro's config keys; what repro has no key for is refused rather than dropped. */
function profileValues(profile: ClientConfigProfile, origin: string): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  const str = (key: string, field: string, value: unknown): void => {
    if (value === undefined) return;
    if (typeof value !== 'string')
      throw new ConfigError(`Temporal ${origin}: '${field}' must be a string; fix it there`);
    out[key] = value;
  };
  str('temporal.address', 'address', profile.address);
  str('temporal.namespace', 'namespace', profile.namespace);
  str('temporal.apiKey', 'api_key', profile.apiKey);
  const tls = profile.tls;
  if (tls !== undefined) {
    // A [tls] table turns TLS on unless it says `disabled = true`, as the SDK reads it.
    out['temporal.tls.enabled'] = tls.disabled !== true;
    str('temporal.tls.serverName', 'tls.server_name', tls.serverName);
    const file = (key: string, field: string, source: typeof tls.clientCert): void => {
      if (source === undefined) return;
      if (!('path' in source))
        throw new ConfigError(
          `Temporal ${origin}: repro reads PEM files only, not tls.${field}_data; ` +
            `write the PEM to a file and give tls.${field}_path instead`,
        );
      str(key, `tls.${field}_path`, source.path);
    };
    file('temporal.tls.caPath', 'server_ca_cert', tls.serverCACert);
    file('temporal.tls.certPath', 'client_cert', tls.clientCert);
    file('temporal.tls.keyPath', 'client_key', tls.clientKey);
  }
  return out;
}
