import { createHash } from 'crypto';
import { existsSync, mkdirSync, writeFileSync } from 'fs';
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
import type { FrontSpec } from './temporal-front';
import { credentialsFile, ensureInstallCredentials, usesInstallCredentials } from '../s3-credentials';

/**
 * The embedded stack: a Temporal dev server (SQLite file in the data folder, so runs survive a
 * restart; Web UI on its own port) and a MinIO S3 server (data in the data folder), with a TLS
 * front for Temporal when it serves other hosts. They run detached and are found again through
 * pid files, so `up` is idempotent and `down` stops them.
 */

export interface StackAddresses {
  temporal: string;
  webUi: string;
  s3: string;
  bucket: string;
  dataDir: string;
  /** The generated S3 credentials' file, when `up` serves other hosts (their workers need the keys). */
  s3Credentials?: string;
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

/**
 * On a non-loopback `temporal.address` the dev server (no TLS, no authentication) stays on
 * loopback and a TLS front listens on the address; it needs a certificate and a way to
 * authenticate clients, or `up` refuses in one line saying what to set.
 */
function frontSpec(config: ReproConfig, t: { host: string; port: number }): FrontSpec {
  const tls = config.temporal.serverTls;
  const missing = [
    ...(tls.certPath ? [] : ['temporal.serverTls.certPath']),
    ...(tls.keyPath ? [] : ['temporal.serverTls.keyPath']),
    ...(config.temporal.apiKey || tls.clientCaPath ? [] : ['temporal.apiKey (or temporal.serverTls.clientCaPath)']),
  ];
  if (missing.length)
    throw new Error(
      `temporal.address ${config.temporal.address} is not a loopback address: \`repro up\` serves Temporal to ` +
        `other hosts only over TLS with client authentication; set ${missing.join(', ')}, or use 127.0.0.1`,
    );
  for (const [key, file] of Object.entries({
    certPath: tls.certPath,
    keyPath: tls.keyPath,
    clientCaPath: tls.clientCaPath,
  }))
    if (file && !existsSync(file)) throw new Error(`config key 'temporal.serverTls.${key}': no file ${file}`);
  return {
    listen: t,
    upstream: { host: '127.0.0.1', port: t.port },
    certPath: path.resolve(tls.certPath),
    keyPath: path.resolve(tls.keyPath),
    clientCaPath: tls.clientCaPath ? path.resolve(tls.clientCaPath) : '',
    apiKeySha256: config.temporal.apiKey ? createHash('sha256').update(config.temporal.apiKey).digest('hex') : '',
  };
}

/**
 * Start whichever of the servers is not running, wait until they answer, create the bucket.
 * Everything listens on loopback unless `temporal.address` / `s3.endpoint` name another address
 * of this machine: then Temporal is served through the TLS front, and MinIO (on that address
 * only) gets this install's generated credentials instead of the published default keys.
 */
export async function stackUp(config: ReproConfig, log: (line: string) => void = () => {}): Promise<StackAddresses> {
  const t = temporalEndpoint(config);
  const s = s3Endpoint(config); // a non-local s3.endpoint fails here, before anything starts
  const front = isLoopback(t.host) ? undefined : frontSpec(config, t);
  const exposed = front !== undefined || !isLoopback(s.host);
  if (exposed) config = ensureInstallCredentials(config);
  const started: string[] = [],
    alreadyRunning: string[] = [];
  const dataDir = config.dataDir;
  const devHost = front ? '127.0.0.1' : t.host;

  if (runningPid(dataDir, 'temporal') !== undefined || (await portOpen(devHost, t.port))) {
    alreadyRunning.push('temporal');
  } else {
    const bin = ensureTool('temporal', config.toolsDir, log);
    startDaemon({
      name: 'temporal',
      command: bin,
      dataDir,
      args: [
        'server',
        'start-dev',
        // Its frontend, HTTP API, metrics and Web UI all bind this address; never all interfaces.
        '--ip',
        devHost,
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
        // One partition per task queue: one matching node needs no more, and a task written to a
        // partition no poller waits on is forwarded first (tens of ms between a queue's activities).
        '--dynamic-config-value',
        'matching.numTaskqueueReadPartitions=1',
        '--dynamic-config-value',
        'matching.numTaskqueueWritePartitions=1',
        // With payload encryption on, the UI decodes through `repro codec-server` on its configured port.
        ...(config.codec.key ? ['--ui-codec-endpoint', `http://127.0.0.1:${config.codec.serverPort}`] : []),
      ],
    });
    started.push('temporal');
  }
  if (front) {
    if (runningPid(dataDir, 'temporal-front') !== undefined || (await portOpen(t.host, t.port))) {
      alreadyRunning.push('temporal-front');
    } else {
      const specFile = path.join(dataDir, 'temporal-front.json');
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(specFile, JSON.stringify(front, null, 2) + '\n', { mode: 0o600 });
      startDaemon({
        name: 'temporal-front',
        command: process.execPath,
        args: [require.resolve('./temporal-front'), specFile],
        dataDir,
      });
      started.push('temporal-front');
    }
  }
  ((await startS3(config, log)) ? started : alreadyRunning).push('s3');
  await waitFor(
    `Temporal dev server at ${devHost}:${t.port}`,
    () => portOpen(devHost, t.port),
    60_000,
    path.join(dataDir, 'temporal.log'),
  );
  if (front)
    await waitFor(
      `Temporal's TLS front at ${t.host}:${t.port}`,
      () => portOpen(t.host, t.port),
      30_000,
      path.join(dataDir, 'temporal-front.log'),
    );
  // Registered through the operator API, which also reaches a dev server whose database predates them.
  await waitFor(
    `repro's search attributes on ${config.temporal.namespace}`,
    async () => {
      await registerSearchAttributes(config);
      return true;
    },
    60_000,
    path.join(dataDir, front ? 'temporal-front.log' : 'temporal.log'),
  );
  await waitForS3(config);
  return {
    temporal: `${t.host}:${t.port}`,
    webUi: `http://${devHost}:${config.temporal.uiPort}`,
    s3: config.s3.endpoint,
    bucket: config.s3.bucket,
    dataDir,
    ...(exposed && usesInstallCredentials(config) ? { s3Credentials: credentialsFile(dataDir) } : {}),
    started,
    alreadyRunning,
  };
}

/**
 * Starts the MinIO server unless one runs (false then); `waitForS3` waits until its bucket exists.
 * On a non-loopback endpoint with the default keys it first makes this install's credentials
 * (the config layer reads them from then on: reload the config). Its console, when on, listens
 * on loopback only.
 */
export async function startS3(config: ReproConfig, log: (line: string) => void = () => {}): Promise<boolean> {
  const s = s3Endpoint(config);
  if (!isLoopback(s.host)) config = ensureInstallCredentials(config);
  const dataDir = config.dataDir;
  if (runningPid(dataDir, 's3') !== undefined || (await portOpen(s.host, s.port))) return false;
  const bin = ensureTool('minio', config.toolsDir, log);
  const args = ['server', '--quiet', '--address', `${s.host}:${s.port}`, path.join(dataDir, 's3')];
  if (config.s3.consolePort > 0) args.splice(2, 0, '--console-address', `127.0.0.1:${config.s3.consolePort}`);
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
  for (const name of ['temporal-front', 'temporal', 's3']) {
    if (await stopDaemon(config.dataDir, name)) stopped.push(name);
  }
  return stopped;
}
