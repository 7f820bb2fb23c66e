/**
 * Experiment parameters: declared once per experiment, parsed from `--set key=value`, checked
 * with messages that name the key, its expected type and an example.
 */

export type ParamValue = number | string | boolean | number[];

/** One settable parameter of an experiment. */
export interface ParamSpec {
  name: string;
  kind: 'number' | 'int' | 'vector' | 'string' | 'bool';
  default: ParamValue;
  description: string;
  /** Inclusive lower bound for numbers and ints; vectors check each element. */
  min?: number;
  /** Exclusive lower bound (e.g. a learning rate must be > 0). */
  above?: number;
  /** Exact vector length. */
  length?: number;
}

export type Params = Record<string, ParamValue>;

/** A user input problem: unknown key, bad value, bad syntax. Never worth a retry. */
export class ParamError extends Error {
  override name = 'ParamError';
}

function example(spec: ParamSpec): string {
  return `${spec.name}=${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)}`;
}

/** Parse one raw value for a spec; throws {@link ParamError} naming the key. */
export function parseParam(spec: ParamSpec, raw: string, experiment: string): ParamValue {
  const fail = (want: string): never => {
    throw new ParamError(
      `--set ${spec.name}=${raw}: ${spec.name} of ${experiment} must be ${want} (e.g. --set ${example(spec)})`,
    );
  };
  const num = (text: string): number => {
    const t = text.trim();
    const n = t === '' ? NaN : Number(t);
    if (!Number.isFinite(n)) fail(spec.kind === 'vector' ? `a comma-separated list of numbers` : 'a finite number');
    return n;
  };
  const bounds = (n: number): void => {
    if (spec.min !== undefined && n < spec.min) fail(`>= ${spec.min}`);
    if (spec.above !== undefined && n <= spec.above) fail(`> ${spec.above}`);
  };
  switch (spec.kind) {
    case 'number': {
      const n = num(raw);
      bounds(n);
      return n;
    }
    case 'int': {
      const n = num(raw);
      if (!Number.isSafeInteger(n)) fail('an integer');
      bounds(n);
      return n;
    }
    case 'vector': {
      const v = raw.split(',').map(num);
      if (spec.length !== undefined && v.length !== spec.length) fail(`${spec.length} comma-separated numbers`);
      v.forEach(bounds);
      return v;
    }
    case 'bool':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return fail('true or false');
    case 'string':
      return raw;
  }
}

/**
 * Defaults, then a preset, then `key=value` overrides. Unknown keys and malformed pairs fail
 * with the list of known keys.
 */
export function resolveParams(experiment: string, specs: ParamSpec[], preset: Params, sets: string[]): Params {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const params: Params = {};
  for (const s of specs) params[s.name] = s.default;
  Object.assign(params, preset);
  for (const pair of sets) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ParamError(`--set ${pair}: expected key=value (e.g. --set ${example(specs[0]!)})`);
    const key = pair.slice(0, eq).trim();
    const spec = byName.get(key);
    if (!spec)
      throw new ParamError(
        `--set ${pair}: ${experiment} has no parameter '${key}'; known: ${specs.map((s) => s.name).join(', ')} (see \`repro experiments\`)`,
      );
    params[key] = parseParam(spec, pair.slice(eq + 1), experiment);
  }
  return params;
}
