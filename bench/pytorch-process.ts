/**
 * PyTorch as a column of the engine bench: bench/pytorch_engine.py started once and asked for
 * one workload at a time, so its figures come from the same run's timeline as ours. The Python
 * is REPRO_BENCH_PYTHON (infra/scripts/bench.sh finds or installs Debian's python3-torch), else
 * the first of python3, /usr/bin/python3 that imports torch.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'child_process';
import * as path from 'path';
import { createInterface } from 'readline';

export interface PyTorchRow {
  model: string;
  batch: number;
  backend: 'pytorch-cpu';
  trainImagesPerSecond: number;
  hvpsPerSecond: number;
  /** Process CPU time over wall time while measuring. */
  cores: number;
  torch: string;
  params: number;
}

export interface PyTorchRequest {
  model: string;
  batch: number;
  /** Steps and HVPs timed together in one repeat. */
  steps: number;
  hvps: number;
  reps: number;
  threads: number;
}

function findPython(): string | undefined {
  const candidates = [process.env.REPRO_BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  return candidates.find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}

export class PyTorchProcess {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: AsyncIterator<string>,
    readonly version: string,
  ) {}

  /** Starts the reference, or says why there is none. */
  static async start(): Promise<PyTorchProcess | { reason: string }> {
    const python = findPython();
    if (!python) return { reason: 'no Python with torch (apt-get install python3-torch, or set REPRO_BENCH_PYTHON)' };
    const script = path.resolve(__dirname, '..', '..', 'bench', 'pytorch_engine.py');
    // One thread for BLAS and OpenMP too, as the torch backend runs here.
    const env = { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
    const child = spawn(python, [script], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) return { reason: `${python} ${script} exited before answering` };
    const hello = JSON.parse(first.value) as { torch: string };
    return new PyTorchProcess(child, lines, hello.torch);
  }

  async measure(req: PyTorchRequest): Promise<PyTorchRow> {
    this.child.stdin.write(JSON.stringify(req) + '\n');
    const line = await this.lines.next();
    if (line.done) throw new Error('the PyTorch reference exited');
    const answer = JSON.parse(line.value) as PyTorchRow | { error: string };
    if ('error' in answer) throw new Error(`PyTorch reference on ${req.model}: ${answer.error}`);
    return answer;
  }

  stop(): void {
    this.child.stdin.end();
  }
}
