/**
 * One figure of two runs in one chart (`repro compare`): the two runs' Vega-Lite specs (as the
 * run reports store them, `<figure>.vl.json`, data inlined) become one layered spec whose data is
 * both datasets concatenated with a field naming the run, encoded as colour where the figure
 * leaves colour free and as stroke dash (shape, for points) where it already colours a series.
 */

type Spec = Record<string, unknown>;
type Layer = { data?: { values?: unknown[] }; mark?: unknown; encoding?: Record<string, unknown> } & Spec;

/** The field names a run may go by, first unused one wins: a figure may have a `run` series of its own (fig7). */
const RUN_FIELDS = ['run', 'run id', 'compared run'];

const valuesOf = (data: unknown): Array<Record<string, unknown>> => {
  const v = (data as { values?: unknown } | undefined)?.values;
  return Array.isArray(v) ? (v as Array<Record<string, unknown>>) : [];
};

function markType(mark: unknown): string {
  return typeof mark === 'string' ? mark : String((mark as { type?: unknown } | undefined)?.type ?? '');
}

/** A layer's encoding with the run added: colour if free, else a channel the mark can show. */
function withRun(layer: Layer, field: string, legend: Record<string, unknown>): Layer {
  const enc = { ...(layer.encoding ?? {}) };
  const run = { field, type: 'nominal', title: field, legend };
  const fieldOf = (ch: string): unknown => (enc[ch] as { field?: unknown } | undefined)?.field;
  if (fieldOf('color') === undefined) enc.color = run;
  else if (['point', 'circle', 'square'].includes(markType(layer.mark))) {
    if (fieldOf('shape') === undefined) enc.shape = run;
  } else if (fieldOf('strokeDash') === undefined) enc.strokeDash = run;
  return { ...layer, encoding: enc };
}

/**
 * The overlay of figure `a` (run `runA`) and `b` (run `runB`): layers of `a`, data from both.
 * Layers with data of their own (reference rules, fitted lines) are kept once where both runs
 * have the same, and once per run, tagged, where they differ. The run's field is `run`, or
 * another name where the figure's data has a `run` field of its own.
 */
export function overlaySpecs(a: Spec, b: Spec, runA: string, runB: string, title?: string): Spec {
  const layersOf = (s: Spec): Layer[] =>
    Array.isArray(s.layer) ? (s.layer as Layer[]) : [{ mark: s.mark, encoding: s.encoding as Layer['encoding'] }];
  const [layersA, layersB] = [layersOf(a), layersOf(b)];
  const rows = [a.data, b.data, ...[...layersA, ...layersB].map((l) => l.data)].flatMap(valuesOf);
  const field = RUN_FIELDS.find((f) => rows.every((r) => !(f in r))) ?? `run ${rows.length}`;
  const tag = (data: unknown, run: string): Array<Record<string, unknown>> =>
    valuesOf(data).map((r) => ({ ...r, [field]: run }));
  // Long run ids must show whole in the legend: they are what tells the runs apart.
  const legend = { labelLimit: 0, orient: 'bottom', direction: 'vertical' };
  const layers: Spec[] = [];
  for (const l of layersA) if (!l.data) layers.push(withRun(l, field, legend));
  const ownA = layersA.filter((l) => l.data);
  const ownB = layersB.filter((l) => l.data);
  for (const [i, l] of ownA.entries()) {
    const m = ownB[i];
    if (m && JSON.stringify(m.data) === JSON.stringify(l.data)) layers.push(l);
    else layers.push(withRun({ ...l, data: { values: tag(l.data, runA) } }, field, legend));
  }
  for (const [i, m] of ownB.entries()) {
    const l = ownA[i];
    if (!l || JSON.stringify(m.data) !== JSON.stringify(l.data))
      layers.push(withRun({ ...m, data: { values: tag(m.data, runB) } }, field, legend));
  }
  const { layer: _l, data: _d, mark: _m, encoding: _e, ...top } = a;
  return {
    ...top,
    ...(title !== undefined ? { title } : {}),
    data: { values: [...tag(a.data, runA), ...tag(b.data, runB)] },
    layer: layers,
  };
}
