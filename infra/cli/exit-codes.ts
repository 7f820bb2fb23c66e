/** The CLI's exit statuses, one owner (the README's "Exit status" lists them). */
export const EXIT = {
  ok: 0,
  /** Anything that went wrong that is not the caller's mistake: an unreachable server, a failed run. */
  error: 1,
  /** A usage mistake: bad flags, parameters, config or input files. */
  usage: 2,
  /** Every run finished, but a claim failed or was inconclusive (`repro reproduce`, `repro run --wait`). */
  claimsNotPassed: 3,
  /** Stopped by Ctrl-C or SIGTERM (128 + SIGINT's number, as shells report it). */
  interrupted: 130,
} as const;

/** Error names (`err.name`) that are the caller's to fix. */
const USAGE_ERRORS = new Set([
  'UsageError',
  'YError',
  'ParamError',
  'ConfigError',
  'WeightsError',
  'DataFormatError',
  'DataMissingError',
  'SafetensorsError',
  'IdError',
  'ExperimentMismatchError',
]);

/** The exit status an error ends the CLI with. */
export function exitStatusOf(err: Error): number {
  if (err.name === 'Interrupted') return EXIT.interrupted;
  return USAGE_ERRORS.has(err.name) ? EXIT.usage : EXIT.error;
}
