import { mkdtempSync, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ReproConfig } from '../../temporal.config';
import { loadConfig } from '../load-config';
import { stackDown, stackUp } from './embedded-stack';
import { portOpen } from './processes';

/** A private embedded stack for tests and benchmarks: own ports, throw-away data folder. */
export interface EphemeralStack {
  /** Environment that points `repro` (and child processes) at this stack. */
  env: NodeJS.ProcessEnv;
  config: ReproConfig;
  stop(): Promise<void>;
}

/**
 * Start Temporal on `basePort`, its UI on basePort+1000 and S3 on basePort+1767 (e.g. 17233,
 * 18233, 19000), listening on `host` (loopback, or an address of this machine that other hosts
 * reach: then `extraEnv` carries the TLS front's settings, `temporal.serverTls.*` and an API key).
 */
export async function startEphemeralStack(
  basePort: number,
  bucket: string,
  log: (line: string) => void,
  host = '127.0.0.1',
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<EphemeralStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `repro-${bucket}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Not the Temporal CLI profile of whoever runs the tests (an API key from it would turn TLS on to this
    // stack): an empty file, no profile. Tests of profiles set their own.
    TEMPORAL_CONFIG_FILE: os.devNull,
    REPRO_TEMPORAL_ADDRESS: `${host}:${basePort}`,
    REPRO_TEMPORAL_UI_PORT: String(basePort + 1000),
    REPRO_S3_ENDPOINT: `http://${host}:${basePort + 1767}`,
    REPRO_S3_CONSOLE_PORT: '0',
    REPRO_S3_BUCKET: bucket,
    REPRO_DATA_DIR: dataDir,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extraEnv,
  };
  if (!extraEnv?.TEMPORAL_PROFILE) delete env.TEMPORAL_PROFILE;
  const config = loadConfig({}, env);
  // A server already on these ports is someone else's (a leftover run): results against it would mislead.
  for (const port of [basePort, basePort + 1767]) {
    if (await portOpen(host, port)) {
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(
        `port ${port} on ${host} is already in use (a leftover test or bench server?); stop that process and retry`,
      );
    }
  }
  log(`${bucket} stack: Temporal ${config.temporal.address}, S3 ${config.s3.endpoint}, data ${dataDir}`);
  await stackUp(config, log);
  return {
    env,
    config,
    async stop() {
      await stackDown(config);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
