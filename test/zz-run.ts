import { useBackend } from '../src/engine/backend';
import { planRun } from '../src/experiments/registry';
import { runStudyLocally } from '../src/experiments/study';
import { findStudy } from '../src/experiments/studies';
(async () => {
  await useBackend((process.env.BACKEND ?? 'wasm') as 'wasm' | 'cpu');
  const t0 = Date.now();
  const [name, ...sets] = process.argv.slice(2);
  const { params } = planRun(name!, 'small', sets);
  const { analysis } = await runStudyLocally(findStudy(name!), params, Number(process.env.SEED ?? 1));
  for (const c of analysis.claims) console.log(c.verdict, c.id, c.predicted, c.measured, c.interval ? [c.interval.lo, c.interval.hi] : '', c.note ?? '');
  console.log(JSON.stringify(analysis.summary).slice(0, Number(process.env.CHARS ?? 1500)));
  console.log((Date.now() - t0) / 1000, 's');
})();
