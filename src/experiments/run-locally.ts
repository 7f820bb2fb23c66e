import type { Tensor } from '../checkpoint/safetensors';
import { folderDataSource, type DataSource } from '../data/data-source';
import type { Analysis, UnitEnv } from './experiment';
import type { Params } from './params';
import { findStudy } from './registry';

/**
 * Run a study in this process, without Temporal or S3 (tests, quick looks): every unit from its
 * start to its end, phase by phase, then the analysis. The durable runtime gives the same outputs
 * (programs are deterministic). `data`: where CIFAR is (default: MNIST only).
 */
export async function runStudyLocally(
  experiment: string,
  params: Params,
  seed: number,
  data: DataSource = folderDataSource(),
): Promise<{ outputs: Record<string, unknown>; analysis: Analysis }> {
  const run = await findStudy(experiment).open(params);
  for (const d of run.datasets) data.identity(d); // a missing data set is named before anything runs
  const finals = new Map<string, Record<string, Tensor>>();
  const outputs: Record<string, unknown> = {};
  for (const phase of [...new Set(run.units.map((u) => u.phase))].sort((a, b) => a - b)) {
    for (const unit of run.units.filter((u) => u.phase === phase)) {
      const program = run.program(unit);
      const env: UnitEnv = {
        seed,
        unit,
        data,
        upstream: async (id) => {
          const t = finals.get(id);
          if (!t) throw new Error(`unit ${unit.id} reads '${id}', which has not run`);
          return t;
        },
      };
      const state = await program.advance(env, await program.init(env), unit.steps, { shouldStop: () => false });
      finals.set(unit.id, program.save(state));
      outputs[unit.id] = await program.output(env, state);
    }
  }
  return { outputs, analysis: run.analyze(outputs, seed) };
}
