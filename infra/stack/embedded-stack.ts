import * as path from 'path';
import { SEARCH_ATTRIBUTE_TYPES } from '../../workflows/search-attributes';
import type { ReproConfig } from '../../temporal.config';
import { temporal } from '@temporalio/proto';
import { checkS3, connectTemporal } from '../clients';
import {
  hostPort,
  isLoopback,
  isThisMachine,
  portOpen,
  runningPid,
  startDaemon,
  stopDaemon,
  waitFor,
} from './processes';
import { ensureTool } from './tools';

/**
 * The embedded stack: a Temporal dev server (SQLite file in the data folder, so runs survive a
 * restart; Web UI on its own port) and a MinIO S3 server (data in the data folder). Both run
 * detached and are found again through pid files, so `up` is idempotent and `down` stops them.
 */

export interface StackAddresses {
  temporal: string;
  webUi: string;
  s3: string;
  bucket: string;
  dataDir: string;
  started: string[];
  alreadyRunning: string[];
}

function temporalEndpoint(config: ReproConfig): { host: string; port: number } {
  const t = hostPort(config.temporal.address, 7233);
  if (!isThisMachine(t.host))
    throw new Error(
      `temporal.address is ${config.temporal.address}: \`repro up\` only starts servers on this machine; ` +
        `use a loopback address or one of this machine's, or skip \`up\``,
    );
  return t;
}

function s3Endpoint(config: ReproConfig): { host: string; port: number } {
  if (!config.s3.endpoint)
    throw new Error(
      's3.endpoint is empty (AWS): `repro up` only starts a local S3 server; set s3.endpoint to a loopback URL',
    );
  const s = hostPort(config.s3.endpoint, 80);
  if (!isThisMachine(s.host))
    throw new Error(
      `s3.endpoint is ${config.s3.endpoint}: \`repro up\` only starts servers on this machine ` +
        `(a loopback address or one of its own)`,
    );
  return s;
}

/** Start whichever of the two servers is not running, wait until both answer, create the bucket. */
export async function stackUp(config: ReproConfig, log: (line: string) => void = () => {}): Promise<StackAddresses> {
  const t = temporalEndpoint(config);
  s3Endpoint(config); // a non-local s3.endpoint fails here, before anything starts
  const started: string[] = [],
    alreadyRunning: string[] = [];
  const dataDir = config.dataDir;

  if (runningPid(dataDir, 'temporal') !== undefined || (await portOpen(t.host, t.port))) {
    alreadyRunning.push('temporal');
  } else {
    const bin = ensureTool('temporal', config.toolsDir, log);
    // On a non-loopback address the dev server must listen on all interfaces: with `--ip <addr>`
    // its frontend still dials its own history service on 127.0.0.1 and every call fails.
    const listen = isLoopback(t.host) ? t.host : '0.0.0.0';
    startDaemon({
      name: 'temporal',
      command: bin,
      dataDir,
      args: [
        'server',
        'start-dev',
        '--ip',
        listen,
        '--port',
        String(t.port),
        '--ui-port',
        String(config.temporal.uiPort),
        '--db-filename',
        path.join(dataDir, 'temporal.db'),
        '--namespace',
        config.temporal.namespace,
        '--log-level',
        'warn',
        // With payload encryption on, the UI decodes through `repro codec-server` on its configured port.
        ...(config.codec.key ? ['--ui-codec-endpoint', `http://127.0.0.1:${config.codec.serverPort}`] : []),
      ],
    });
    started.push('temporal');
  }
  ((await startS3(config, log)) ? started : alreadyRunning).push('s3');
  await waitFor(
    `Temporal dev server at ${t.host}:${t.port}`,
    () => portOpen(t.host, t.port),
    60_000,
    path.join(dataDir, 'temporal.log'),
  );
  // Registered through the operator API, which also reaches a dev server whose database predates them.
  await waitFor(
    `repro's search attributes on ${config.temporal.namespace}`,
    async () => {
      await registerSearchAttributes(config);
      return true;
    },
    60_000,
    path.join(dataDir, 'temporal.log'),
  );
  await waitForS3(config);
  return {
    temporal: `${t.host}:${t.port}`,
    webUi: `http://${t.host}:${config.temporal.uiPort}`,
    s3: config.s3.endpoint,
    bucket: config.s3.bucket,
    dataDir,
    started,
    alreadyRunning,
  };
}

/** Starts the MinIO server unless one runs (false then); `waitForS3` waits until its bucket exists. */
export async function startS3(config: ReproConfig, log: (line: string) => void = () => {}): Promise<boolean> {
  const s = s3Endpoint(config);
  const dataDir = config.dataDir;
  if (runningPid(dataDir, 's3') !== undefined || (await portOpen(s.host, s.port))) return false;
  const bin = ensureTool('minio', config.toolsDir, log);
  const args = ['server', '--quiet', '--address', `${s.host}:${s.port}`, path.join(dataDir, 's3')];
  if (config.s3.consolePort > 0) args.splice(2, 0, '--console-address', `${s.host}:${config.s3.consolePort}`);
  startDaemon({
    name: 's3',
    command: bin,
    dataDir,
    args,
    env: {
      MINIO_ROOT_USER: config.s3.accessKeyId,
      MINIO_ROOT_PASSWORD: config.s3.secretAccessKey,
      MINIO_BROWSER: config.s3.consolePort > 0 ? 'on' : 'off',
      MINIO_UPDATE: 'off',
    },
  });
  return true;
}

export async function waitForS3(config: ReproConfig): Promise<void> {
  await waitFor(
    `S3 server at ${config.s3.endpoint}`,
    async () => {
      await checkS3(config, true);
      return true;
    },
    60_000,
    path.join(config.dataDir, 's3.log'),
  );
}

/** Adds those of repro's search attributes the namespace lacks (idempotent). */
export async function registerSearchAttributes(config: ReproConfig): Promise<void> {
  const { connection } = await connectTemporal(config);
  try {
    const namespace = config.temporal.namespace;
    const have = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
    const { IndexedValueType } = temporal.api.enums.v1;
    const missing = Object.fromEntries(
      SEARCH_ATTRIBUTE_TYPES.filter(([name]) => !(name in have)).map(([name, type]) => [
        name,
        type === 'Int' ? IndexedValueType.INDEXED_VALUE_TYPE_INT : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    );
    if (Object.keys(missing).length)
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } finally {
    await connection.close();
  }
}

/** Stop the servers `up` started (found by pid file). Returns the names stopped. */
export async function stackDown(config: ReproConfig): Promise<string[]> {
  const stopped: string[] = [];
  for (const name of ['temporal', 's3']) {
    if (await stopDaemon(config.dataDir, name)) stopped.push(name);
  }
  return stopped;
}
