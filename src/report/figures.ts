/**
 * Figures of the reports as Vega-Lite specifications (rendered to static SVG by render-svg.ts):
 * a few shapes the paper's figures need, each a layered chart with its data inlined.
 */
/** A figure of a report: a Vega-Lite specification, rendered to SVG by the report writer. */
export interface Figure {
  id: string;
  title: string;
  caption: string;
  /** Vega-Lite spec, data inlined. */
  spec: Record<string, unknown>;
}

export type Row = Record<string, number | string | boolean | null>;

export interface Axis {
  field: string;
  title: string;
  /** e.g. { type: 'log' } or { zero: false } */
  scale?: Record<string, unknown>;
  /** `temporal` for times (ISO strings or epoch milliseconds); quantitative by default. */
  type?: 'quantitative' | 'temporal';
}

const WIDTH = 560,
  HEIGHT = 320;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

function encodingXY(x: Axis, y: Axis): Record<string, unknown> {
  // A time scale has no zero to leave out (Vega-Lite warns of one).
  const channel = (a: Axis) => ({
    field: a.field,
    type: a.type ?? 'quantitative',
    title: a.title,
    scale: a.type === 'temporal' ? { ...a.scale } : { zero: false, ...a.scale },
  });
  return { x: channel(x), y: channel(y) };
}

/** Colour by `series`, with fixed colours per value where `colors` gives them (e.g. verdicts). */
function colorBy(series: string | undefined, colors?: Record<string, string>): Record<string, unknown> {
  if (!series) return {};
  const scale = colors ? { scale: { domain: Object.keys(colors), range: Object.values(colors) } } : {};
  return { color: { field: series, type: 'nominal', title: series, ...scale } };
}

/**
 * Lines (optionally with points) of `y` against `x`, one per `series`, with an optional shaded
 * band (`band.lo`..`band.hi`, e.g. mean ± std) and horizontal reference rules.
 */
export function lineFigure(o: {
  id: string;
  title: string;
  caption: string;
  data: Row[];
  x: Axis;
  y: Axis;
  series?: string;
  points?: boolean;
  band?: { lo: string; hi: string };
  rules?: Array<{ y: number; label: string }>;
}): Figure {
  const color = colorBy(o.series);
  const layers: Array<Record<string, unknown>> = [];
  if (o.band) {
    layers.push({
      mark: { type: 'area', opacity: 0.25 },
      encoding: {
        x: { field: o.x.field, type: 'quantitative', title: o.x.title, scale: { zero: false, ...o.x.scale } },
        y: { field: o.band.lo, type: 'quantitative', title: o.y.title, scale: { zero: false, ...o.y.scale } },
        y2: { field: o.band.hi },
        ...color,
      },
    });
  }
  layers.push({ mark: { type: 'line', point: o.points ?? false }, encoding: { ...encodingXY(o.x, o.y), ...color } });
  for (const r of o.rules ?? []) {
    layers.push({
      data: { values: [{ y: r.y, label: r.label }] },
      mark: { type: 'rule', strokeDash: [6, 4], color: '#555' },
      encoding: { y: { field: 'y', type: 'quantitative' } },
    });
    layers.push({
      data: { values: [{ y: r.y, label: r.label }] },
      mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#555' },
      encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
    });
  }
  return {
    id: o.id,
    title: o.title,
    caption: o.caption,
    spec: { $schema: SCHEMA, width: WIDTH, height: HEIGHT, title: o.title, data: { values: o.data }, layer: layers },
  };
}

/**
 * Points of `y` against `x` (with error bars `err.lo`..`err.hi` when given), and fitted or
 * predicted lines y = slope·x + intercept drawn over the range of x.
 */
export function scatterFigure(o: {
  id: string;
  title: string;
  caption: string;
  data: Row[];
  x: Axis;
  y: Axis;
  series?: string;
  /** Fixed colours of the series' values, in legend order. */
  colors?: Record<string, string>;
  err?: { lo: string; hi: string };
  lines?: Array<{ label: string; slope: number; intercept: number }>;
}): Figure {
  const xs = o.data.map((r) => Number(r[o.x.field])).filter(Number.isFinite);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const color = colorBy(o.series, o.colors);
  const layers: Array<Record<string, unknown>> = [
    { mark: { type: 'point', filled: true }, encoding: { ...encodingXY(o.x, o.y), ...color } },
  ];
  if (o.err) {
    layers.push({
      mark: 'errorbar',
      encoding: {
        x: { field: o.x.field, type: o.x.type ?? 'quantitative' },
        y: { field: o.err.lo, type: 'quantitative', title: o.y.title },
        y2: { field: o.err.hi },
        ...color,
      },
    });
  }
  if (o.lines?.length) {
    const values = o.lines.flatMap((l) =>
      [x0, x1].map((x) => ({ [o.x.field]: x, [o.y.field]: l.slope * x + l.intercept, line: l.label })),
    );
    layers.push({
      data: { values },
      mark: { type: 'line', strokeDash: [6, 4] },
      encoding: {
        ...encodingXY(o.x, o.y),
        strokeDash: { field: 'line', type: 'nominal', title: 'line' },
        color: { value: '#444' },
      },
    });
  }
  return {
    id: o.id,
    title: o.title,
    caption: o.caption,
    spec: { $schema: SCHEMA, width: WIDTH, height: HEIGHT, title: o.title, data: { values: o.data }, layer: layers },
  };
}
