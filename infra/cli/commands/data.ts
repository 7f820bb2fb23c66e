import * as path from 'path';
import type { Argv, CommandModule } from 'yargs';
import { importCifar } from '../../../src/data/cifar-import';
import { configFrom, print, printJson, UsageError, type GlobalArgs } from '../context';

interface DataArgs extends GlobalArgs {
  action: string;
  variant: string;
  archive: string;
  md5?: string;
}

export const dataCommand: CommandModule<GlobalArgs, DataArgs> = {
  command: 'data <action> <variant> <archive>',
  describe: 'Import a CIFAR archive downloaded elsewhere: repro data import cifar10|cifar100 <archive> [--md5 HASH]',
  builder: (y) =>
    y
      .positional('action', { type: 'string', choices: ['import'], describe: 'import' })
      .positional('variant', { type: 'string', describe: 'cifar10 or cifar100' })
      .positional('archive', { type: 'string', describe: 'path of cifar-10-binary.tar.gz or cifar-100-binary.tar.gz' })
      .option('md5', {
        type: 'string',
        describe: 'accept an archive with this MD5 instead of the published one (a repackaging you vouch for)',
      }) as unknown as Argv<DataArgs>,
  handler: (argv) => {
    const variant = argv.variant === 'cifar10' ? 10 : argv.variant === 'cifar100' ? 100 : undefined;
    if (!variant) throw new UsageError(`data import ${argv.variant}: use cifar10 or cifar100`);
    if (argv.md5 !== undefined && !/^[0-9a-fA-F]{32}$/.test(argv.md5))
      throw new UsageError(`--md5 ${argv.md5}: an MD5 is 32 hexadecimal digits`);
    const config = configFrom(argv);
    const r = importCifar(variant, path.resolve(argv.archive), path.join(config.dataDir, 'datasets'), argv.md5);
    if (argv.json) printJson(r);
    else print(`imported ${argv.variant}: ${r.train} training and ${r.test} test images, MD5 ${r.md5}, at ${r.path}`);
  },
};
