import type { CommandModule } from 'yargs';
import { stackDown } from '../../stack/embedded-stack';
import { configFrom, print, type GlobalArgs } from '../context';

export const downCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'down',
  describe: 'Stop the embedded servers started by `repro up` (their data is kept)',
  handler: async (argv) => {
    const stopped = await stackDown(configFrom(argv));
    print(stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing was running');
  },
};
