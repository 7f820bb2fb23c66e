import { msToTs } from '@temporalio/common/lib/time';
import { execFileSync } from 'child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import type { ReproConfig } from '../../temporal.config';
import { connectTemporal } from '../clients';
import { registerSearchAttributes } from './embedded-stack';
import { portOpen, startDaemon, stopDaemon, waitFor } from './processes';
import { ensureTool } from './tools';

/**
 * A self-hosted Temporal as a cluster runs it, on this machine: Debian's PostgreSQL for
 * persistence and visibility, the schema applied by temporal-sql-tool, and the Temporal server
 * (all four services in one process) built at a pinned version from the Go module proxy. The
 * dev server that `repro up` starts is the same server code on SQLite; this one is what the
 * production path (`infra/helm`, README "Running on a cluster") talks to.
 */
export interface PostgresTemporalOptions {
  /** Where the frontend listens (an address other hosts reach, or loopback). */
  host: string;
  /** The frontend's gRPC port; history, matching and worker take port + 1, + 2, + 6, HTTP + 10. */
  port: number;
  /** The frontend's membership port, the others' likewise (below 32768: the database keeps a smallint). */
  membershipPort: number;
  /** PostgreSQL's port (listening on loopback only: only the server talks to it). */
  postgresPort: number;
  namespace: string;
  /**
   * Throw-away folder for the database, the server's config and the logs. As root, it is given
   * to the `postgres` user, which must be able to reach it (not under a private folder).
   */
  dataDir: string;
  toolsDir: string;
  log?: (line: string) => void;
}

export interface PostgresTemporal {
  address: string;
  startPostgres(): Promise<void>;
  stopPostgres(): Promise<void>;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  stop(): Promise<void>;
}

/** The newest PostgreSQL server Debian installed (`/usr/lib/postgresql/<major>/bin`). */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const installed = existsSync(root) ? readdirSync(root) : [];
  const majors = installed.filter((d) => existsSync(path.join(root, d, 'bin', 'postgres')));
  if (!majors.length) throw new Error('PostgreSQL is not installed: apt-get install postgresql (Debian), then retry');
  return path.join(root, majors.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user Debian creates. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]];
}

function serverConfig(o: PostgresTemporalOptions): string {
  const store = (database: string, conns: number): string => `
      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: 127.0.0.1:${o.postgresPort}
        connectProtocol: tcp
        user: temporal
        password: temporal
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: 1h`;
  const service = (name: string, offset: number): string => `
  ${name}:
    rpc:
      grpcPort: ${o.port + offset}
      membershipPort: ${o.membershipPort + offset}
      bindOnIP: ${o.host}`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:${store('temporal', 20)}
    visibility:${store('temporal_visibility', 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: ${o.host}
services:${service('frontend', 0)}
      httpPort: ${o.port + 10}${service('history', 1)}${service('matching', 2)}${service('worker', 6)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: ${o.host}:${o.port}
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${path.join(o.dataDir, 'temporal', 'dynamicconfig.yaml')}
  pollInterval: 10s
`;
}

/**
 * Creates the database cluster and the schema (first call on an empty `dataDir`), starts
 * PostgreSQL and the server, registers the namespace and repro's search attributes.
 */
export async function startPostgresTemporal(
  o: PostgresTemporalOptions,
  config: ReproConfig,
): Promise<PostgresTemporal> {
  const log = o.log ?? (() => {});
  const bin = postgresBin();
  const pgData = path.join(o.dataDir, 'pg');
  const sockets = path.join(o.dataDir, 'pg-sockets');
  const temporalDir = path.join(o.dataDir, 'temporal');
  mkdirSync(temporalDir, { recursive: true });
  mkdirSync(sockets, { recursive: true });
  if (process.getuid?.() === 0) {
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    for (const d of [o.dataDir, sockets]) chownSync(d, id('-u'), id('-g'));
  }
  const server = ensureTool('temporal-server', o.toolsDir, log);
  const sqlTool = ensureTool('temporal-sql-tool', o.toolsDir, log);
  const fresh = !existsSync(path.join(pgData, 'PG_VERSION'));
  if (fresh) {
    const [cmd, args] = asPostgres(path.join(bin, 'initdb'), [
      '-D',
      pgData,
      '-U',
      'temporal',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  writeFileSync(path.join(temporalDir, 'development.yaml'), serverConfig(o));
  // Search attributes show at once (not after the cache's refresh) so a run started right after works.
  writeFileSync(
    path.join(temporalDir, 'dynamicconfig.yaml'),
    'system.forceSearchAttributesCacheRefreshOnRead:\n  - value: true\n',
  );

  const self: PostgresTemporal = {
    address: `${o.host}:${o.port}`,
    async startPostgres() {
      const [cmd, args] = asPostgres(path.join(bin, 'postgres'), [
        '-D',
        pgData,
        '-p',
        String(o.postgresPort),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${sockets}`,
        '-c',
        'max_connections=200',
      ]);
      startDaemon({ name: 'postgres', command: cmd, args, dataDir: o.dataDir });
      await waitFor(
        `PostgreSQL on 127.0.0.1:${o.postgresPort}`,
        () => portOpen('127.0.0.1', o.postgresPort),
        60_000,
        path.join(o.dataDir, 'postgres.log'),
      );
    },
    // SIGINT is PostgreSQL's fast shutdown: open sessions (the server's) are ended, data is flushed.
    async stopPostgres() {
      await stopDaemon(o.dataDir, 'postgres', 30_000, 'SIGINT');
    },
    async startServer() {
      startDaemon({
        name: 'temporal-server',
        command: server,
        dataDir: o.dataDir,
        args: ['--root', o.dataDir, '--config', 'temporal', '--env', 'development', '--allow-no-auth', 'start'],
      });
      await waitFor(
        `Temporal server at ${self.address}`,
        () => portOpen(o.host, o.port),
        90_000,
        path.join(o.dataDir, 'temporal-server.log'),
      );
    },
    async stopServer() {
      await stopDaemon(o.dataDir, 'temporal-server', 30_000);
    },
    async stop() {
      await self.stopServer();
      await self.stopPostgres();
    },
  };

  try {
    await bringUp(self, o, config, fresh, sqlTool);
  } catch (err) {
    await self.stop();
    throw err;
  }
  return self;
}

async function bringUp(
  self: PostgresTemporal,
  o: PostgresTemporalOptions,
  config: ReproConfig,
  fresh: boolean,
  sqlTool: string,
): Promise<void> {
  const log = o.log ?? (() => {});
  await self.startPostgres();
  if (fresh) {
    const schemas = [
      ['temporal', 'postgresql/v12/temporal'],
      ['temporal_visibility', 'postgresql/v12/visibility'],
    ];
    for (const [database, schema] of schemas) {
      const sql = (...args: string[]): void => {
        execFileSync(
          sqlTool,
          [
            '--plugin',
            'postgres12',
            '--ep',
            '127.0.0.1',
            '--port',
            String(o.postgresPort),
            '--user',
            'temporal',
            '--password',
            'temporal',
            '--db',
            database!,
            ...args,
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
      };
      sql('create-database');
      sql('setup-schema', '-v', '0.0');
      sql('update-schema', '--schema-name', schema!);
    }
    log('PostgreSQL schema for temporal and temporal_visibility applied');
  }
  await self.startServer();
  await waitFor(
    `namespace ${o.namespace} on ${self.address}`,
    async () => {
      const { connection } = await connectTemporal(config);
      try {
        const service = connection.workflowService;
        await service.describeNamespace({ namespace: o.namespace }).catch(async () => {
          await service.registerNamespace({
            namespace: o.namespace,
            workflowExecutionRetentionPeriod: msToTs('3 days'),
          });
        });
        await service.describeNamespace({ namespace: o.namespace });
      } finally {
        await connection.close();
      }
      await registerSearchAttributes(config);
      return true;
    },
    120_000,
    path.join(o.dataDir, 'temporal-server.log'),
  );
}
