/**
 * Separate hosts on one machine for tests: each host is a Linux network namespace with its own
 * address on a private bridge, and nothing else (no route out, its own loopback). Servers listen
 * on the bridge address in the root namespace; a process started "on" a host sees them only
 * through the bridge, as a worker on another node would. Needs root (CAP_NET_ADMIN) and iproute2.
 */
import { execFileSync, spawnSync } from 'child_process';

export interface NetHosts {
  /** The servers' address on the bridge (root namespace). */
  serverAddress: string;
  hosts: Array<{ name: string; address: string; namespace: string; link: string }>;
  /** Take a host off the network (its link goes down), as a pulled cable or a lost node would. */
  disconnect(name: string): void;
  remove(): void;
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};
const quietly = (...args: string[]): void => {
  spawnSync('ip', args, { stdio: 'ignore' });
};

/** Why namespaces cannot be made here, or undefined when they can (tried for real, then removed). */
export function netnsUnavailable(): string | undefined {
  const probe = `repro-probe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.error) return `iproute2 is not installed (${r.error.message})`;
  if (r.status !== 0) return `\`ip netns add\` failed: ${r.stderr.trim()} (needs root / CAP_NET_ADMIN)`;
  quietly('netns', 'del', probe);
  return undefined;
}

/** Create hosts `names` on bridge 10.<subnet>.0/24; the bridge holds .1, the hosts .2, .3, ... */
export function createNetHosts(names: string[], subnet = 213): NetHosts {
  const tag = String(process.pid % 10000);
  const bridge = `rpbr${tag}`;
  const serverAddress = `10.${subnet}.0.1`;
  const hosts = names.map((name, i) => ({
    name,
    address: `10.${subnet}.0.${i + 2}`,
    namespace: `repro-${name}-${tag}`,
    link: `rp${i}h${tag}`,
  }));
  const remove = (): void => {
    for (const h of hosts) {
      quietly('netns', 'del', h.namespace);
      quietly('link', 'del', h.link);
    }
    quietly('link', 'del', bridge);
  };
  remove();
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${serverAddress}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (const h of hosts) {
      ip('netns', 'add', h.namespace);
      ip('link', 'add', h.link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.namespace);
      ip('link', 'set', h.link, 'master', bridge);
      ip('link', 'set', h.link, 'up');
      ip('-n', h.namespace, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0');
      ip('-n', h.namespace, 'link', 'set', 'eth0', 'up');
      ip('-n', h.namespace, 'link', 'set', 'lo', 'up');
    }
  } catch (err) {
    remove();
    throw err;
  }
  return {
    serverAddress,
    hosts,
    remove,
    disconnect(name) {
      ip('link', 'set', hosts.find((h) => h.name === name)!.link, 'down');
    },
  };
}
