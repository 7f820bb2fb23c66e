import { EXIT } from '../exit-codes';
import { randomUUID } from 'crypto';
import { temporal } from '@temporalio/proto';
import type { Argv, CommandModule } from 'yargs';
import { registerCommand, SEARCH_ATTRIBUTE_TYPES } from '../../../workflows/search-attributes';
import { codecFor } from '../../codec';
import { checkS3, connectTemporal, makeObjectStore } from '../../clients';
import { configWithOriginsFrom, print, printJson, type GlobalArgs } from '../context';

interface Check {
  check: string;
  ok: boolean;
  detail: string;
  /** What to do about it, when not ok. */
  fix?: string;
}

const { TaskQueueType } = temporal.api.enums.v1;

/**
 * `repro doctor`: the configuration checked end to end, one line per check with the fix for
 * each failure: Temporal reachable (with TLS/API key as configured), the namespace and repro's
 * search attributes there, the bucket writable and readable, workers polling each task queue
 * (workflows and activities) and the backends they run, the payload codec's key, the torch addon.
 */
export async function doctor(argv: GlobalArgs): Promise<Check[]> {
  const { config, origins } = configWithOriginsFrom(argv);
  // Where the address came from, when not the default: a Temporal CLI profile or a variable set long ago.
  const from = origins['temporal.address'] === 'default' ? '' : ` (address from ${origins['temporal.address']})`;
  const checks: Check[] = [];
  const add = (check: string, ok: boolean, detail: string, fix?: string): void => {
    checks.push({ check, ok, detail, ...(ok ? {} : { fix }) });
  };
  try {
    const codec = codecFor(config);
    add('payload codec', true, codec ? `AES-256-GCM, key id ${codec.keyId}` : 'off (payloads in the clear)');
  } catch (err) {
    add(
      'payload codec',
      false,
      (err as Error).message,
      'set REPRO_CODEC_KEY to 32 bytes in base64, the same on every client and worker',
    );
  }
  try {
    await checkS3(config);
    const store = makeObjectStore(config);
    const key = `doctor/${randomUUID()}`;
    await store.put(key, Buffer.from('probe'));
    const back = Buffer.from(await store.get(key)).toString();
    await store.delete(key);
    add(
      'S3 bucket',
      back === 'probe',
      `${store.url('')} writable and readable`,
      "check s3.endpoint, s3.bucket and the credentials' write permission",
    );
  } catch (err) {
    add(
      'S3 bucket',
      false,
      (err as Error).message.split('\n')[0]!,
      'check s3.endpoint, s3.bucket, s3.region and the credentials ' +
        '(REPRO_S3_ACCESS_KEY_ID/_SECRET_ACCESS_KEY or the AWS chain)',
    );
  }
  let connected: Awaited<ReturnType<typeof connectTemporal>> | undefined;
  try {
    connected = await connectTemporal(config);
    const tls =
      config.temporal.tls.enabled ||
      config.temporal.tls.caPath ||
      config.temporal.tls.certPath ||
      config.temporal.apiKey;
    add('Temporal', true, `${config.temporal.address}${tls ? ' over TLS' : ''}${from}`);
  } catch (err) {
    add(
      'Temporal',
      false,
      `${(err as Error).message}${from}`,
      'start the embedded stack (`repro up`) or set temporal.address and temporal.tls.*',
    );
  }
  if (connected) {
    const { connection } = connected;
    const namespace = config.temporal.namespace;
    try {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        add('namespace', true, namespace);
      } catch (err) {
        add(
          'namespace',
          false,
          `${namespace}: ${(err as Error).message.split('\n')[0]}`,
          `temporal operator namespace create ${namespace} (or set temporal.namespace)`,
        );
      }
      try {
        const have = Object.keys(
          (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {},
        );
        const missing = SEARCH_ATTRIBUTE_TYPES.map(([name]) => name).filter((n) => !have.includes(n));
        add(
          'search attributes',
          missing.length === 0,
          missing.length ? `missing ${missing.join(', ')}` : `${SEARCH_ATTRIBUTE_TYPES.length} registered`,
          registerCommand(namespace),
        );
      } catch (err) {
        add('search attributes', false, (err as Error).message.split('\n')[0]!, registerCommand(namespace));
      }
      for (const [queue, name] of Object.entries(config.taskQueues)) {
        const kinds =
          queue === 'gpu'
            ? ([['activity', TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]] as const)
            : ([
                ['workflow', TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
                ['activity', TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
              ] as const);
        for (const [kind, type] of kinds) {
          const check = `${queue} queue ${name} (${kind} pollers)`;
          const fix = `start a worker: repro worker --queue ${queue} (with this configuration)`;
          try {
            const r = await connection.workflowService.describeTaskQueue({
              namespace,
              taskQueue: { name },
              taskQueueType: type,
            });
            const pollers = (r.pollers ?? []).map((p) => p.identity ?? '?');
            add(check, pollers.length > 0, pollers.length ? pollers.join('; ') : 'no worker polls it', fix);
          } catch (err) {
            add(check, false, (err as Error).message.split('\n')[0]!, fix);
          }
        }
      }
    } finally {
      await connection.close();
    }
  }
  // Loaded here only: it loads tfjs, which the other commands do without.
  const { loadTorchAddon } = await import('../../../src/engine/torch/backend');
  const torch = loadTorchAddon();
  checks.push({
    check: 'torch backend (this machine)',
    ok: true,
    detail: 'addon' in torch ? 'built' : `absent: ${torch.reason}`,
  });
  return checks;
}

export const doctorCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'doctor',
  describe:
    'Check the configuration end to end (Temporal, namespace, search attributes, bucket, ' +
    'workers and their backends) and print fixes',
  builder: (y) => y as Argv<GlobalArgs>,
  handler: async (argv) => {
    const checks = await doctor(argv);
    if (argv.json) printJson(checks);
    else
      for (const c of checks)
        print(`${c.ok ? 'ok  ' : 'FAIL'} ${c.check}: ${c.detail}${c.fix ? `\n     fix: ${c.fix}` : ''}`);
    if (checks.some((c) => !c.ok)) process.exitCode = EXIT.error;
  },
};
