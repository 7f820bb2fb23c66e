import type { PathParts } from '../../src/experiments/projected-path/parts';
import { lineConnected } from '../../src/landscape/landscape';
import type { LineCheck } from '../../src/landscape/projected-path';
import type { Staged, StageKit, StageOptions } from './stage';
import type { StateRef } from './workspace';

/** Line-connectedness of two stored minima, with the segment's highest loss. */
export function makeCheckConnected(kit: StageKit) {
  return async function checkConnected(
    input: {
      parts: PathParts;
      a: StateRef;
      b: StateRef;
      noCache: boolean;
    },
    opts: StageOptions = {},
  ): Promise<Staged<LineCheck>> {
    const { parts } = input;
    return kit.stage<LineCheck>(
      'line',
      parts,
      { a: input.a.sha256, b: input.b.sha256 },
      input.noCache,
      async (_key, sw) => {
        const { train } = await kit.ws.objectives(parts.objective);
        const [a, b] = await Promise.all([kit.ws.loadState(input.a), kit.ws.loadState(input.b)]);
        kit.heartbeat({ stage: 'line' });
        const r = await sw.time(() => lineConnected(train, a.theta, b.theta, parts.line.threshold, parts.line.points));
        return { connected: r.connected, maxLoss: r.maxLoss };
      },
      opts.behind,
    ) as Promise<Staged<LineCheck>>;
  };
}
