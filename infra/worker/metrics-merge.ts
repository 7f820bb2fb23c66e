/**
 * One pod's metrics from several worker processes (`repro worker --gpus N`: a process per GPU):
 * their Prometheus texts merged into one, each process's series labelled with its device, and
 * their health verdicts into the pod's. Pure: tested without processes.
 *
 * The texts are merged as text, not through prom-client's AggregatorRegistry: the Temporal SDK's
 * metrics come from its native exporter as text (no prom-client registry to collect), and one
 * merge serves both ports. Nothing is summed here: a label per process keeps every series apart
 * (a per-GPU steps/s, loss or stall stays visible), and PromQL sums them (KEDA's query does).
 */
import type { HealthVerdict } from './health';

/** One process's text, and the labels its series get (`{device: "GPU-…"}`; none for the parent's). */
export interface Exposition {
  labels: Record<string, string>;
  text: string;
}

interface Family {
  help?: string;
  type?: string;
  samples: string[];
}

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** `sample` (`name{a="b"} 1` or `name 1`) with `extra` (`k="v",…`) added to its labels. */
function withLabels(sample: string, nameEnd: number, extra: string): string {
  if (extra === '') return sample;
  if (sample[nameEnd] !== '{') return `${sample.slice(0, nameEnd)}{${extra}}${sample.slice(nameEnd)}`;
  const rest = sample.slice(nameEnd + 1);
  return `${sample.slice(0, nameEnd + 1)}${extra}${rest.startsWith('}') ? '' : ','}${rest}`;
}

/**
 * The texts as one: each metric family once (its HELP and TYPE from the first text that has it),
 * then every text's samples of it, labelled. A sample belongs to the family of the TYPE or HELP
 * above it when its name extends that family's (`_bucket`, `_sum`, `_count`), else to its own name.
 */
export function mergeExpositions(parts: readonly Exposition[]): string {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { samples: [] }));
    return f;
  };
  for (const part of parts) {
    const extra = Object.entries(part.labels)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',');
    let current: string | undefined;
    for (const line of part.text.split('\n')) {
      if (line.trim() === '') continue;
      const meta = /^#\s*(HELP|TYPE)\s+(\S+)/.exec(line);
      if (meta) {
        const f = family((current = meta[2]!));
        if (meta[1] === 'HELP') f.help ??= line;
        else f.type ??= line;
        continue;
      }
      if (line.startsWith('#')) continue;
      const nameEnd = line.search(/[{\s]/);
      if (nameEnd <= 0) continue;
      const name = line.slice(0, nameEnd);
      const owner = current !== undefined && name.startsWith(current) ? current : name;
      family(owner).samples.push(withLabels(line, nameEnd, extra));
    }
  }
  const out: string[] = [];
  for (const f of families.values()) {
    if (f.help) out.push(f.help);
    if (f.type) out.push(f.type);
    out.push(...f.samples);
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** One process's verdict as the pod saw it: its `/healthz` answer, or why there was none. */
export type PartHealth =
  { name: string; verdict: HealthVerdict } | { name: string; silent: 'refused' | 'timeout' | 'error'; detail: string };

/** The pod's verdict, with each process's under `workers`. */
export type PodHealth = HealthVerdict & { workers: Array<HealthVerdict & { name: string }> };

/**
 * The pod's verdict: live while no process is stalled or hung (one whose HTTP endpoint is open
 * but does not answer: a numerics call that never returns blocks its event loop); ready while
 * every process polls its queues. A process that refuses connections is starting or restarting
 * (the supervisor restarts it): not ready, still live.
 */
export function combineHealth(parts: readonly PartHealth[], stallSeconds: number, timeoutMs: number): PodHealth {
  const verdicts = parts.map((p): HealthVerdict & { name: string } => {
    if ('verdict' in p) return { ...p.verdict, name: p.name };
    const hung = p.silent === 'timeout';
    const reason = hung
      ? `${p.name} did not answer /healthz within ${timeoutMs / 1000} s: its event loop is blocked ` +
        '(a numerics call that does not return); restart the pod to free its GPU ' +
        '(its attempt resumes from its last checkpoint)'
      : `${p.name} is not serving (${p.detail}): starting, or restarting after an exit`;
    return {
      name: p.name,
      live: !hung,
      ready: false,
      phase: 'starting',
      inFlight: 0,
      oldestProgressAgeSeconds: 0,
      stallSeconds,
      reason,
    };
  });
  const notReady = verdicts.find((v) => !v.ready);
  return {
    live: verdicts.every((v) => v.live),
    ready: notReady === undefined,
    phase: notReady?.phase ?? 'ready',
    inFlight: verdicts.reduce((n, v) => n + v.inFlight, 0),
    oldestProgressAgeSeconds: Math.max(0, ...verdicts.map((v) => v.oldestProgressAgeSeconds)),
    stallSeconds,
    reason: verdicts
      .filter((v) => v.reason !== '')
      .map((v) => (v.reason.startsWith(v.name) ? v.reason : `${v.name}: ${v.reason}`))
      .join('; '),
    workers: verdicts,
  };
}
