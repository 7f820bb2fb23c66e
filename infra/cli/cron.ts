import { UsageError } from './context';

/**
 * The five fields of a cron expression and their ranges, as Temporal Schedules read them (UTC).
 * Checked here so that a mistake is named before anything connects, field by field; the server
 * would refuse it only after the connection, in its own words.
 */
const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
] as const;

const EXAMPLE = "e.g. '0 3 * * *' for 03:00 UTC every day";

/** A value of a field: a number in range, or (month, day-of-week) a three-letter name. */
function value(text: string, f: (typeof FIELDS)[number]): number | undefined {
  if (/^\d{1,2}$/.test(text)) {
    const n = Number(text);
    return n >= f.min && n <= f.max ? n : undefined;
  }
  const names: readonly string[] | undefined = 'names' in f ? f.names : undefined;
  const i = names?.indexOf(text.toUpperCase()) ?? -1;
  return i < 0 ? undefined : i + (f.name === 'month' ? 1 : 0);
}

/** One comma-separated item: `*`, `N`, `A-B`, each with an optional `/STEP`. */
function validItem(item: string, f: (typeof FIELDS)[number]): boolean {
  const [range, step, ...rest] = item.split('/');
  if (rest.length || range === undefined) return false;
  if (step !== undefined && !(/^\d{1,2}$/.test(step) && Number(step) >= 1)) return false;
  if (range === '*') return true;
  const [a, b, ...more] = range.split('-');
  if (more.length || a === undefined) return false;
  const lo = value(a, f);
  if (lo === undefined) return false;
  if (b === undefined) return true;
  const hi = value(b, f);
  return hi !== undefined && lo <= hi;
}

/** Throws a {@link UsageError} naming the first field that is not valid, with its range. */
export function checkCron(expr: string): void {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 || expr.trim() === '') {
    throw new UsageError(`--cron '${expr}': give five fields (minute hour day-of-month month day-of-week), ${EXAMPLE}`);
  }
  fields.forEach((text, i) => {
    const f = FIELDS[i]!;
    if (!text.split(',').every((item) => validItem(item, f))) {
      throw new UsageError(
        `--cron '${expr}': ${f.name} '${text}' is not ${f.min}-${f.max}, '*', a range A-B or a list, ` +
          `each with an optional /STEP (${EXAMPLE})`,
      );
    }
  });
}
