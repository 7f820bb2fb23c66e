import type { CommandModule } from 'yargs';
import { jsonLog, runWorker, type QueueKind } from '../../worker/start-worker';
import { runGpuWorkers } from '../../worker/gpu-workers';
import { configFrom, intFlag, UsageError, type GlobalArgs } from '../context';

interface WorkerArgs extends GlobalArgs {
  queue?: QueueKind[];
  concurrency?: number;
  gpuSlots?: number;
  gpus?: number;
  activitiesOnly?: boolean;
}

export const workerCommand: CommandModule<GlobalArgs, WorkerArgs> = {
  command: 'worker',
  describe: 'Run a worker (JSON-lines log on stdout); SIGTERM/SIGINT checkpoint running activities and stop',
  builder: (y) =>
    y
      .option('queue', {
        type: 'string',
        array: true,
        choices: ['cpu', 'gpu'] as const,
        describe: 'task queues to serve (repeatable; default both)',
      })
      .option('concurrency', {
        type: 'number',
        describe: 'concurrent activities on the cpu queue (default: worker.concurrency)',
      })
      .option('gpu-slots', {
        type: 'number',
        describe: 'concurrent activities on the gpu queue, one model each (default: worker.gpuSlots)',
      })
      .option('gpus', {
        type: 'number',
        describe:
          'start this many gpu worker processes, one device each from CUDA_VISIBLE_DEVICES (else 0..N-1), ' +
          'one gpu slot each (default: worker.gpus; 0: serve the gpu queue in this process)',
      })
      .option('activities-only', {
        type: 'boolean',
        default: false,
        describe: 'serve activities only, beside a worker that serves the workflows (starts without bundling them)',
      }),
  handler: async (argv) => {
    // The flags' own names in their errors (the config keys they set have the same bounds).
    if (argv.concurrency !== undefined) intFlag('concurrency', argv.concurrency, 1, 1024);
    if (argv.gpuSlots !== undefined) intFlag('gpu-slots', argv.gpuSlots, 1, 64);
    if (argv.gpus !== undefined) intFlag('gpus', argv.gpus, 0, 64);
    const conf = [...(argv.conf ?? [])];
    if (argv.concurrency !== undefined) conf.push(`worker.concurrency=${argv.concurrency}`);
    if (argv.gpuSlots !== undefined) conf.push(`worker.gpuSlots=${argv.gpuSlots}`);
    if (argv.gpus !== undefined) conf.push(`worker.gpus=${argv.gpus}`);
    const config = configFrom({ ...argv, conf });
    const queues: QueueKind[] = argv.queue?.length ? argv.queue : ['cpu', 'gpu'];
    if (config.worker.gpus === 0) {
      await runWorker(config, { queues, log: jsonLog, activitiesOnly: argv.activitiesOnly });
      return;
    }
    if (!queues.includes('gpu'))
      throw new UsageError(`--gpus ${config.worker.gpus} starts gpu queue workers: add --queue gpu, or set --gpus 0`);
    // The children get the flags as given (their config layers resolve as here), --gpus excepted.
    await runGpuWorkers(config, {
      queues,
      log: jsonLog,
      flags: { config: argv.config, backend: argv.backend, conf: argv.conf },
    });
  },
};
