#!/usr/bin/env node
/**
 * `repro`: the command line. Each verb lives in its own file under commands/; this file wires
 * them to yargs and is the one place errors become `Error: <message>` and an exit status
 * (exit-codes.ts: 2 for usage mistakes, 1 for everything else).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { cancelCommand } from './commands/cancel';
import { codecServerCommand } from './commands/codec-server';
import { dataCommand } from './commands/data';
import { doctorCommand } from './commands/doctor';
import { downCommand } from './commands/down';
import { experimentsCommand } from './commands/experiments';
import { exportCommand } from './commands/export';
import { gcCommand } from './commands/gc';
import { hessianCommand } from './commands/hessian';
import { listCommand } from './commands/list';
import { reportCommand } from './commands/report';
import { reproduceCommand } from './commands/reproduce';
import { resultsCommand } from './commands/results';
import { resumeCommand } from './commands/resume';
import { runCommand } from './commands/run';
import { scheduleCommand } from './commands/schedule';
import { statusCommand } from './commands/status';
import { upCommand } from './commands/up';
import { workerCommand } from './commands/worker';
import { UsageError } from './context';
import { exitStatusOf } from './exit-codes';

export async function main(args: string[]): Promise<void> {
  await yargs(args)
    .scriptName('repro')
    .usage(
      '$0 <command> [options]\n\n' +
        'Durable reproduction of "How noise affects the Hessian spectrum in overparameterized neural networks".',
    )
    .option('config', {
      type: 'string',
      global: true,
      describe: 'JSON config file (default: repro.config.json if present)',
    })
    .option('conf', {
      type: 'string',
      array: true,
      global: true,
      describe: 'override a config key: --conf key=value (e.g. temporal.address=host:7233)',
    })
    .option('json', { type: 'boolean', global: true, default: false, describe: 'machine-readable output' })
    .option('backend', {
      type: 'string',
      global: true,
      describe: 'tfjs backend (auto, torch, tensorflow, webgpu, wasm, cpu): --conf backend=NAME',
    })
    .command(upCommand)
    .command(downCommand)
    .command(workerCommand)
    .command(runCommand)
    .command(statusCommand)
    .command(listCommand)
    .command(cancelCommand)
    .command(resumeCommand)
    .command(scheduleCommand)
    .command(resultsCommand)
    .command(experimentsCommand)
    .command(reportCommand)
    .command(exportCommand)
    .command(gcCommand)
    .command(codecServerCommand)
    .command(doctorCommand)
    .command(reproduceCommand)
    .command(hessianCommand)
    .command(dataCommand)
    .demandCommand(1, 'name a command; `repro --help` lists them')
    .strict()
    .fail((msg, err) => {
      // yargs spreads some messages over lines ("Invalid values:\n  Argument: ..."): one line here.
      throw (
        err ??
        new UsageError(
          msg
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean)
            .join(' '),
        )
      );
    })
    .help()
    .version(false)
    .parseAsync();
}

if (require.main === module) {
  main(hideBin(process.argv)).catch((err: Error) => {
    process.stderr.write(`Error: ${err.message.split('\n')[0]}\n`);
    process.exit(exitStatusOf(err));
  });
}
