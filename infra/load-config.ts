import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { ConfigError, resolveConfig, type ReproConfig } from '../temporal.config';
import { withInstallCredentials } from './s3-credentials';

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
  const file =
    opts.configFile ?? env.REPRO_CONFIG ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  let content: { path: string; content: unknown } | undefined;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new ConfigError(`config file ${file} cannot be read; check the path given to --config`);
    }
    try {
      content = { path: file, content: JSON.parse(text) };
    } catch (err) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
    }
  }
  const flags: Record<string, string> = {};
  for (const pair of opts.conf ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new ConfigError(`--conf ${pair}: expected key=value, e.g. --conf temporal.address=127.0.0.1:7233`);
    flags[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const config = resolveConfig({ file: content, env, flags });
  // Relative folders are taken from the project root, so commands work from any directory.
  const root = path.resolve(__dirname, '..', '..');
  const resolved = {
    ...config,
    dataDir: path.resolve(root, config.dataDir),
    toolsDir: path.resolve(root, config.toolsDir),
  };
  // S3 keys left at their defaults: the ones `repro up` made for this install, if it made any.
  return withInstallCredentials(resolved);
}
