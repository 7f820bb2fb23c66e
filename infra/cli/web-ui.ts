import type { ReproConfig } from '../../temporal.config';
import { hostPort, isLoopback } from '../stack/processes';

/**
 * The base URL of the Temporal Web UI that shows this config's runs: `temporal.webUi` when set;
 * else the dev server's that `repro up` starts, when `temporal.address` is on loopback; else
 * none (a cluster's UI is elsewhere, on a host and port nothing here knows).
 */
export function webUiBase(config: ReproConfig): string | undefined {
  if (config.temporal.webUi) return config.temporal.webUi.replace(/\/+$/, '');
  const { host } = hostPort(config.temporal.address, 7233);
  if (!isLoopback(host)) return undefined;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.temporal.uiPort}`;
}

/** The Web UI page of a workflow (the same path on the dev server, a self-hosted UI and Temporal Cloud). */
export function workflowLink(config: ReproConfig, workflowId: string): string | undefined {
  const base = webUiBase(config);
  return (
    base &&
    `${base}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`
  );
}
