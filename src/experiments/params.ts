/**
 * Experiment parameters, declared once per experiment as a {@link ParamSet}: the TypeScript type
 * of the parameters, the parsing of `--set key=value`, the checks (with messages that name the key,
 * its expected type and an example) and the `repro experiments` listing all derive from it.
 *
 * Hand-written rather than a schema library: parsing comes from strings (`--set theta0=0.1,0.2`),
 * every message must name the flag and an example, and the listing needs each field's kind and
 * default; zod or valibot would need the same wrappers around them plus introspection.
 */

export type ParamValue = number | string | boolean | number[];

/** Parameters as they travel (workflow inputs, results): plain JSON. */
export type Params = Record<string, ParamValue>;

export type ParamKind = 'number' | 'int' | 'vector' | 'string' | 'bool' | 'choice' | 'number-or-auto';

interface Bounds {
  /** Inclusive lower bound for numbers and ints; vectors check each element. */
  min?: number;
  /** Exclusive lower bound (e.g. a learning rate must be > 0). */
  above?: number;
  /** Inclusive upper bound. */
  max?: number;
  /**
   * Largest value `--set` takes without `--allow-large`: a size (steps, seeds, samples, epochs)
   * where a typo (`steps=1e15`) would run for years. Presets and stored parameters may exceed it.
   */
  large?: number;
}

/** How `--set` values are taken. */
export interface ResolveOptions {
  /** Accept values above a parameter's `large` bound (`--allow-large`). */
  allowLarge?: boolean;
}

/** The flag that lets `--set` go past a parameter's `large` bound. */
export const ALLOW_LARGE_FLAG = '--allow-large';

/** One settable parameter: its kind, default, bounds and what it means. */
export interface Field<T extends ParamValue> extends Bounds {
  kind: ParamKind;
  default: T;
  description: string;
  /** Exact vector length. */
  length?: number;
  /** The allowed values of a `choice`. */
  choices?: readonly string[];
}

/** A field as `repro experiments` lists it. */
export interface ParamSpec extends Field<ParamValue> {
  name: string;
}

/** A number, or `auto` for a value the run determines itself (a threshold from its own training, say). */
export const numOrAuto = (d: number | 'auto', description: string, b: Bounds = {}): Field<number | 'auto'> => ({
  kind: 'number-or-auto',
  default: d,
  description,
  ...b,
});
export const num = (d: number, description: string, b: Bounds = {}): Field<number> => ({
  kind: 'number',
  default: d,
  description,
  ...b,
});
export const int = (d: number, description: string, b: Bounds = {}): Field<number> => ({
  kind: 'int',
  default: d,
  description,
  ...b,
});
export const vector = (d: number[], description: string, b: Bounds & { length?: number } = {}): Field<number[]> => ({
  kind: 'vector',
  default: d,
  description,
  ...b,
});
export const bool = (d: boolean, description: string): Field<boolean> => ({ kind: 'bool', default: d, description });
export const text = (d: string, description: string): Field<string> => ({ kind: 'string', default: d, description });
export const choice = <C extends string>(choices: readonly C[], d: C, description: string): Field<C> => ({
  kind: 'choice',
  default: d,
  description,
  choices,
});

/** A user input problem: unknown key, bad value, bad syntax. Never worth a retry. */
export class ParamError extends Error {
  override name = 'ParamError';
}

type Fields = Record<string, Field<ParamValue>>;

/** The parameter type a declaration describes. */
type FieldsParams<F extends Fields> = { -readonly [K in keyof F]: F[K]['default'] };

/** The parameter type of a {@link ParamSet}: `type Fig6Params = ParamsOf<typeof fig6Params>`. */
export type ParamsOf<S> = S extends ParamSet<infer P> ? P : never;

const show = (v: ParamValue): string => (Array.isArray(v) ? v.join(',') : String(v));

/** The declared parameters of one experiment (or engine): parse, check, list. */
export class ParamSet<P extends Params> {
  readonly specs: readonly ParamSpec[];

  constructor(private readonly fields: Fields) {
    this.specs = Object.entries(fields).map(([name, f]) => ({ name, ...f }));
  }

  /**
   * Defaults, then a preset, then `key=value` overrides, every value checked. Unknown keys and
   * malformed pairs fail with the list of known keys.
   */
  resolve(experiment: string, preset: Partial<P>, sets: readonly string[], opts: ResolveOptions = {}): P {
    const given: Partial<Params> = { ...preset };
    const seen = new Set<string>();
    for (const pair of sets) {
      const eq = pair.indexOf('=');
      if (eq <= 0)
        throw new ParamError(`--set ${pair}: expected key=value (e.g. --set ${this.example(this.specs[0]!)})`);
      const key = pair.slice(0, eq).trim();
      const spec = this.spec(key);
      if (!spec) {
        throw new ParamError(
          `--set ${pair}: ${experiment} has no parameter '${key}'; known: ` +
            `${this.specs.map((s) => s.name).join(', ')} ` +
            '(see `repro experiments`)',
        );
      }
      // Twice is a mistake (an edited command line), not "the last one wins".
      if (seen.has(key)) throw new ParamError(`--set ${key} is given twice; give each parameter once`);
      seen.add(key);
      const value = this.parse(spec, pair.slice(eq + 1), experiment);
      if (!opts.allowLarge) this.checkLarge(spec, value, experiment);
      given[key] = value;
    }
    return this.check(experiment, given);
  }

  /**
   * Typed parameters from stored ones (a workflow input, a schedule's action): every declared key,
   * a missing one at its default (a parameter added since), each value of its declared kind and
   * within bounds; keys no longer declared are dropped.
   */
  check(experiment: string, raw: Readonly<Partial<Params>>): P {
    const out: Params = {};
    for (const s of this.specs) {
      out[s.name] = this.parse(s, raw[s.name] ?? s.default, experiment);
    }
    return out as P; // every declared key is present with a value of its declared kind
  }

  private spec(name: string): ParamSpec | undefined {
    return Object.prototype.hasOwnProperty.call(this.fields, name)
      ? this.specs.find((s) => s.name === name)
      : undefined;
  }

  /** A `--set` value above the parameter's `large` bound: refused, naming the flag that allows it. */
  private checkLarge(spec: ParamSpec, value: ParamValue, experiment: string): void {
    const large = spec.large;
    if (large === undefined) return;
    const big = (Array.isArray(value) ? value : [value]).find((v) => typeof v === 'number' && v > large);
    if (big === undefined) return;
    throw new ParamError(
      `--set ${spec.name}=${show(value)}: ${big} is above ${large}, the most ${spec.name} of ${experiment} ` +
        `takes without ${ALLOW_LARGE_FLAG} (a typo would run for a very long time); lower it, ` +
        `or add ${ALLOW_LARGE_FLAG} to run it`,
    );
  }

  private example(spec: ParamSpec): string {
    return `${spec.name}=${show(spec.default)}`;
  }

  /** A value for a spec from `--set` text or a stored value; throws {@link ParamError} naming the key. */
  private parse(spec: ParamSpec, raw: ParamValue, experiment: string): ParamValue {
    const fail = (want: string): never => {
      throw new ParamError(
        `--set ${spec.name}=${show(raw)}: ${spec.name} of ${experiment} must be ${want} ` +
          `(e.g. --set ${this.example(spec)})`,
      );
    };
    const num = (v: ParamValue): number => {
      // Decimal notation only: Number() also reads '0x10', '0b11' and '' (as 16, 3 and 0).
      const decimal = typeof v === 'string' && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v.trim());
      const n = typeof v === 'number' ? v : decimal ? Number((v as string).trim()) : NaN;
      if (!Number.isFinite(n)) fail(spec.kind === 'vector' ? 'a comma-separated list of numbers' : 'a finite number');
      return n;
    };
    const bounds = (n: number): number => {
      if (spec.min !== undefined && n < spec.min) fail(`>= ${spec.min}`);
      if (spec.above !== undefined && n <= spec.above) fail(`> ${spec.above}`);
      if (spec.max !== undefined && n > spec.max) fail(`<= ${spec.max}`);
      return n;
    };
    switch (spec.kind) {
      case 'number':
        return bounds(num(raw));
      case 'number-or-auto':
        if (raw === 'auto') return raw;
        if (typeof raw === 'string' && !/^[+-]?[\d.]/.test(raw.trim())) fail('a finite number or auto');
        return bounds(num(raw));
      case 'int': {
        const n = num(raw);
        if (!Number.isSafeInteger(n)) fail('an integer');
        return bounds(n);
      }
      case 'vector': {
        const v = (Array.isArray(raw) ? raw : String(raw).split(',')).map(num);
        if (spec.length !== undefined && v.length !== spec.length) fail(`${spec.length} comma-separated numbers`);
        return v.map(bounds);
      }
      case 'bool':
        if (raw === true || raw === 'true' || raw === '1') return true;
        if (raw === false || raw === 'false' || raw === '0') return false;
        return fail('true or false');
      case 'string':
        return typeof raw === 'string' ? raw : fail('a string');
      case 'choice':
        return typeof raw === 'string' && spec.choices!.includes(raw)
          ? raw
          : fail(`one of ${spec.choices!.join(', ')}`);
    }
  }
}

/** Declare an experiment's parameters once. */
export function paramSet<F extends Fields>(fields: F): ParamSet<FieldsParams<F>> {
  return new ParamSet(fields);
}
