/**
 * `npm run bench`: every figure is measured side by side in this one run and printed as a ratio
 * to a baseline measured in the same run. The machines here are shared and noisy: medians over
 * repeats, never a timed test. Sections: engine (the torch backend's native programs and tfjs kernels
 * against PyTorch; flags --json, --js, --rounds=N), numerics (per backend), trace estimators, fig7 toy,
 * SLQ against the exact spectrum (slq), the projected path's numeric stages against their former
 * versions (stages),
 * checkpoint I/O against the local S3 server, the projected-path pipeline (the generic small preset
 * then cached, and the suite's projected-path presets; `--pipeline=EXPERIMENT:PRESET` picks),
 * orchestration overhead (private stack on ports 37233/38233/39000).
 * `npm run bench -- storage` runs only the sections named.
 */
import { startEphemeralStack } from '../infra/stack/ephemeral-stack';
import { benchEngine } from './engine';
import { benchThroughput, benchTraceEstimators } from './numerics';
import { benchOrchestration } from './orchestration';
import { benchPathStages } from './path-stages';
import { benchPipeline } from './pipeline';
import { benchSlq } from './slq';
import { benchCheckpoints, benchToy } from './storage';

function line(name: string, value: string): void {
  process.stdout.write(`${name.padEnd(62)} ${value}\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flags = args.filter((a) => a.startsWith('--'));
  const only = args.filter((a) => !a.startsWith('--'));
  const want = (s: string): boolean => only.length === 0 || only.includes(s);
  if (want('engine')) await benchEngine(line, flags);
  if (want('throughput')) await benchThroughput(line);
  if (want('estimators')) await benchTraceEstimators(line);
  if (want('toy')) await benchToy(line);
  if (want('slq')) await benchSlq(line);
  if (want('stages')) await benchPathStages(line);
  if (want('storage') || want('pipeline') || want('orchestration')) {
    const stack = await startEphemeralStack(37233, 'repro-bench', (l) => process.stderr.write(l + '\n'));
    try {
      if (want('storage')) await benchCheckpoints(stack.config, line);
      if (want('pipeline')) await benchPipeline(stack.config, line, flags);
      if (want('orchestration')) await benchOrchestration(stack.config, line);
    } finally {
      await stack.stop();
    }
  }
}

main().catch((err: Error) => {
  process.stderr.write(`Error: ${err.message}\n`);
  process.exit(1);
});
