#!/usr/bin/env node
/**
 * `repro`: the command line. Each verb lives in its own file under commands/; this file wires
 * them to yargs and is the one place errors become `Error: <message>` and an exit status
 * (exit-codes.ts: 2 for usage mistakes, 1 for everything else).
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { codeVersion } from '../clients';
import { cancelCommand } from './commands/cancel';
import { compareCommand } from './commands/compare';
import { configCommand } from './commands/config';
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
import { EXIT, exitStatusOf } from './exit-codes';

const COMMANDS = [
  upCommand,
  downCommand,
  workerCommand,
  runCommand,
  statusCommand,
  listCommand,
  cancelCommand,
  resumeCommand,
  scheduleCommand,
  resultsCommand,
  compareCommand,
  experimentsCommand,
  reportCommand,
  exportCommand,
  gcCommand,
  codecServerCommand,
  doctorCommand,
  configCommand,
  reproduceCommand,
  hessianCommand,
  dataCommand,
] as const;

/** The options that take several values; any other given twice is a mistake, not "the last one wins". */
const REPEATABLE = new Set(['set', 'conf', 'queue', 'experiments']);

/**
 * A yargs message as one line that says how to fix it: the usage of the command it is about
 * (`repro run <experiment>`) and where its help is.
 */
function usageMessage(msg: string, args: string[]): string {
  const line = msg
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
  const name = args.find((a) => COMMANDS.some((c) => String(c.command).split(' ')[0] === a));
  const command = COMMANDS.find((c) => String(c.command).split(' ')[0] === name);
  const help = command ? `\`repro ${name} --help\`` : '`repro --help`';
  if (command && /^Not enough non-option arguments/.test(line))
    return `missing argument: the usage is \`repro ${String(command.command)}\`; ${help} explains each`;
  const after = /^Not enough arguments following: (.+)$/.exec(line);
  if (after) return `--${after[1]} needs a value; ${help} shows what it takes`;
  const required = /^Missing required arguments?: (.+)$/.exec(line);
  if (required)
    return `${required[1]!
      .split(', ')
      .map((o) => `--${o}`)
      .join(', ')} is required; ${help} shows what it takes`;
  return `${line}; ${help} lists the commands and options`;
}

/**
 * `repro --version`: the package's version and the code version every result records
 * (`repro@<version>+code.<hash>`, see codeVersion), to match an install with the results it made.
 */
export function versionLine(): string {
  const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return `repro ${pkg.version} (code ${codeVersion()})`;
}

export async function main(args: string[]): Promise<void> {
  await yargs(args)
    // One value per flag (`--set a=1 --set b=2`): a repeatable flag before the command
    // (`repro --conf k=v run fig7`) would otherwise swallow the command as more values.
    .parserConfiguration({ 'greedy-arrays': false })
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
    .command(COMMANDS as unknown as CommandModule[])
    .middleware((argv) => {
      for (const [key, value] of Object.entries(argv))
        if (key !== '_' && !REPEATABLE.has(key) && Array.isArray(value))
          throw new UsageError(`--${key} is given ${value.length} times; give it once`);
    })
    .demandCommand(1, 'name a command; `repro --help` lists them')
    .strict()
    .fail((msg, err) => {
      // yargs spreads some messages over lines ("Invalid values:\n  Argument: ..."): one line here.
      throw err ?? new UsageError(usageMessage(msg, args));
    })
    .help()
    // `source <(repro completion)` in ~/.bashrc or ~/.zshrc (zsh when $SHELL is zsh): commands, flags, values.
    .completion('completion', 'print a bash/zsh completion script: `source <(repro completion)`')
    // The code version hashes the built code (offline, ~10 ms): only worth it when asked for.
    .version('version', 'show the version of repro and of its code', args.includes('--version') ? versionLine() : '')
    .parseAsync();
}

if (require.main === module) {
  // A reader that stopped reading (`repro experiments | head -1`) ends the command quietly, as it
  // would end `cat`: there is no one left to tell.
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT.ok);
      throw err;
    });
  main(hideBin(process.argv)).catch((err: Error) => {
    process.stderr.write(`Error: ${err.message.split('\n')[0]}\n`);
    process.exit(exitStatusOf(err));
  });
}
