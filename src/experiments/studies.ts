/**
 * Every study (experiments of units; see study.ts) by name. Imported by the activities that run
 * them; the CLI needs only the definitions (registry.ts), which stay free of numerics.
 */
import { fig2bStudy } from './fig2b/study';
import { fig2cdStudy } from './fig2cd/study';
import type { Study } from './study';

const STUDIES: readonly Study[] = [fig2bStudy, fig2cdStudy];

export function findStudy(name: string): Study {
  const s = STUDIES.find((x) => x.definition.name === name);
  if (!s) throw new Error(`'${name}' is not a study (studies: ${STUDIES.map((x) => x.definition.name).join(', ')})`);
  return s;
}
