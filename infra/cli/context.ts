import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { ReproConfig } from '../../temporal.config';
import { loadConfigWithOrigins } from '../load-config';

/** Options every command takes. */
export interface GlobalArgs {
  config?: string;
  conf?: string[];
  json?: boolean;
  backend?: string;
}

/** A mistake in how the command was called; exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function configFrom(argv: GlobalArgs): ReproConfig {
  return configWithOriginsFrom(argv).config;
}

/** {@link configFrom}, and where each key's value came from (see loadConfigWithOrigins). */
export function configWithOriginsFrom(argv: GlobalArgs): { config: ReproConfig; origins: Record<string, string> } {
  return loadConfigWithOrigins({
    configFile: argv.config,
    conf: [...(argv.conf ?? []), ...(argv.backend ? [`backend=${argv.backend}`] : [])],
  });
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function print(line = ''): void {
  process.stdout.write(line + '\n');
}

/**
 * A whole-number flag within [min, max], checked before anything connects: returns it, or throws
 * a {@link UsageError} naming the flag, what it got and the range (yargs reads `abc` as NaN).
 */
export function intFlag(flag: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
  const want =
    max !== Number.MAX_SAFE_INTEGER
      ? `an integer from ${min} to ${max}`
      : min === 0
        ? 'a non-negative integer'
        : min === 1
          ? 'a positive integer'
          : `an integer of at least ${min}`;
  throw new UsageError(`--${flag} ${Number.isNaN(value) ? '(not a number)' : value}: must be ${want}`);
}

/** A duration flag (`90s`, `12h`, `7d`) in milliseconds, or NaN when it does not parse. */
export function parseDuration(v: string): number {
  try {
    return msToNumber(v as Duration);
  } catch {
    return NaN;
  }
}
