/**
 * Vega-Lite specifications to static SVG in Node, with Vega's own renderer: no canvas, no
 * browser, no network. Vega 6 is an ES module with top-level await, which `require` cannot
 * load, so it comes in through a real dynamic `import()` (TypeScript would turn a plain one
 * into `require` for CommonJS output).
 */
const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;

interface VegaModule {
  View: new (runtime: unknown, opts: { renderer: 'none' }) => { toSVG(): Promise<string>; finalize(): void };
  parse(spec: unknown): unknown;
}
interface VegaLiteModule {
  compile(spec: unknown): { spec: unknown };
}

let modules: Promise<{ vega: VegaModule; vl: VegaLiteModule }> | undefined;

/** Render one Vega-Lite spec to an SVG document. */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  modules ??= Promise.all([importEsm<VegaModule>('vega'), importEsm<VegaLiteModule>('vega-lite')]).then(
    ([vega, vl]) => ({ vega, vl }),
  );
  const { vega, vl } = await modules;
  const view = new vega.View(
    vega.parse(vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec }).spec),
    { renderer: 'none' },
  );
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
