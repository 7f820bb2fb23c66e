import type { CommandModule } from 'yargs';
import { jsonLog, runWorker, type QueueKind } from '../../worker/start-worker';
import { configFrom, intFlag, type GlobalArgs } from '../context';

interface WorkerArgs extends GlobalArgs {
  queue?: QueueKind[];
  concurrency?: number;
  gpuSlots?: number;
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
      .option('activities-only', {
        type: 'boolean',
        default: false,
        describe: 'serve activities only, beside a worker that serves the workflows (starts without bundling them)',
      }),
  handler: async (argv) => {
    // The flags' own names in their errors (the config keys they set have the same bounds).
    if (argv.concurrency !== undefined) intFlag('concurrency', argv.concurrency, 1, 1024);
    if (argv.gpuSlots !== undefined) intFlag('gpu-slots', argv.gpuSlots, 1, 64);
    const conf = [...(argv.conf ?? [])];
    if (argv.concurrency !== undefined) conf.push(`worker.concurrency=${argv.concurrency}`);
    if (argv.gpuSlots !== undefined) conf.push(`worker.gpuSlots=${argv.gpuSlots}`);
    const config = configFrom({ ...argv, conf });
    await runWorker(config, {
      queues: argv.queue?.length ? argv.queue : ['cpu', 'gpu'],
      log: jsonLog,
      activitiesOnly: argv.activitiesOnly,
    });
  },
};
