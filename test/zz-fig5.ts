import { useBackend } from '../src/engine/backend';
import { planRun } from '../src/experiments/registry';
import { runStudyLocally } from '../src/experiments/study';
import { fig5Study } from '../src/experiments/fig5/study';
(async () => {
  await useBackend('wasm');
  const t0 = Date.now();
  const { params } = planRun('fig5', 'small', process.argv.slice(2));
  const { outputs, analysis } = await runStudyLocally(fig5Study, params, 1);
  for (const o of Object.values(outputs) as Array<{ loss: string; records: Array<{ epoch: number; cs: number; trainLoss: number }>; final: unknown }>) console.log(o.loss, o.records.map((r) => `${r.epoch}:${r.cs.toFixed(3)}/${r.trainLoss.toFixed(3)}`).join(' '), JSON.stringify(o.final));
  console.log(analysis.claims.map((c) => `${c.id} ${c.measured} ${c.verdict}`), (Date.now() - t0) / 1000, 's');
})();
