/**
 * Every study (experiments of units; see study.ts) by name. Imported by the activities that run
 * them; the CLI needs only the definitions (registry.ts), which stay free of numerics.
 */
import { fig2aStudy } from './fig2a/study';
import { fig2bStudy } from './fig2b/study';
import { fig2cdStudy } from './fig2cd/study';
import { fig5Study } from './fig5/study';
import { fig6Study } from './fig6/study';
import { noiseTopkStudy } from './noise-topk/study';
import type { Study } from './study';

const STUDIES: readonly Study[] = [fig2aStudy, fig2bStudy, fig2cdStudy, fig5Study, fig6Study, noiseTopkStudy];

export function findStudy(name: string): Study {
  const s = STUDIES.find((x) => x.definition.name === name);
  if (!s) throw new Error(`'${name}' is not a study (studies: ${STUDIES.map((x) => x.definition.name).join(', ')})`);
  return s;
}
