/**
 * The one typed configuration of `repro`.
 *
 * Layers, later wins: built-in defaults (the embedded stack on loopback), then the Temporal CLI's
 * client config profile (its `temporal.*` keys only), then a JSON config file, then environment
 * variables, then CLI flags. Every key is declared once in {@link SCHEMA}
 * with its type, default, environment variable and a description, and the merged result is
 * validated once: an unknown key or a wrong type fails with the key's name and where it came from.
 *
 * This module is pure: callers (infra/) hand it the environment and flags they read.
 */

import { DEFAULT_NATIVE_MODE, NATIVE_MODES, type NativeMode } from './src/engine/torch/native-mode';

/** Fully resolved configuration. Saved in every checkpoint manifest and result. */
export interface ReproConfig {
  temporal: {
    /** host:port of the Temporal frontend (gRPC). */
    address: string;
    /** Temporal namespace that runs and workers use. */
    namespace: string;
    /** Port of the Temporal Web UI started by `repro up`. */
    uiPort: number;
    /**
     * Base URL of the cluster's Web UI, for the links `repro status` prints (e.g.
     * `https://cloud.temporal.io`); empty: the dev server's (`http://<host>:<uiPort>`) when `address`
     * is a loopback one, else no link.
     */
    webUi: string;
    /** TLS to the frontend: on with any of these set (Temporal Cloud: certPath/keyPath, or apiKey alone). */
    tls: {
      enabled: boolean;
      /** PEM file of the CA that signed the server's certificate (empty: the system's roots). */
      caPath: string;
      /** mTLS: PEM files of this client's certificate and key. */
      certPath: string;
      keyPath: string;
      /** The name the server's certificate is checked against (empty: the address's host). */
      serverName: string;
    };
    /** API key (Temporal Cloud); sent as a bearer token, over TLS. `repro up` on a non-loopback address requires it. */
    apiKey: string;
    /**
     * gRPC metadata sent with every call: the Temporal CLI profile's `grpc_meta`, then `TEMPORAL_GRPC_META_*`
     * (header names lower-case); not a key of its own (infra/load-config.ts fills it).
     */
    grpcMeta?: Record<string, string>;
    /**
     * What `repro up` serves on a non-loopback `address`: its TLS certificate and key (PEM files),
     * and the CA that client certificates must chain to (empty: clients authenticate by `apiKey`).
     */
    serverTls: {
      certPath: string;
      keyPath: string;
      clientCaPath: string;
    };
  };
  taskQueues: {
    /** Queue for light activities (toy models, summaries, reports). */
    cpu: string;
    /** Queue for accelerator-bound activities (training, Hessian products). */
    gpu: string;
  };
  s3: {
    /** S3 endpoint URL; empty means AWS's default endpoint for the region. */
    endpoint: string;
    region: string;
    bucket: string;
    /** Key prefix under which all of repro's objects live (e.g. `team-a/`). */
    prefix: string;
    accessKeyId: string;
    secretAccessKey: string;
    /** Path-style addressing (needed by MinIO and most self-hosted servers). */
    forcePathStyle: boolean;
    /** Port of the embedded S3 server's console; 0 disables it. */
    consolePort: number;
  };
  /** Folder for the embedded servers' data, logs and pid files. */
  dataDir: string;
  /** Folder where server binaries are built and cached. */
  toolsDir: string;
  worker: {
    /** Concurrent activity executions on the cpu task queue of one worker. */
    concurrency: number;
    /**
     * Concurrent activities on the gpu task queue: one model per GPU (Node runs tfjs numerics on one thread anyway).
     */
    gpuSlots: number;
    /**
     * Activity tasks the gpu queue takes beyond its slots, waiting in the worker for one: the next stage starts the
     * moment one ends, without a poll round trip to the server (0: take a task only when a slot is free).
     */
    gpuPrefetch: number;
    /**
     * GPU worker processes this worker starts, one device each (its own `CUDA_VISIBLE_DEVICES`, one gpu slot, its
     * share of the cores); 0: none, this process serves the gpu queue itself on the device the addon picks.
     */
    gpus: number;
    /** Time a stopping worker gives running activities to write their final checkpoint. */
    shutdownGraceMs: number;
    /** Port of the worker's HTTP endpoint: `/metrics` (repro's own), `/healthz`, `/readyz`; 0: none. */
    metricsPort: number;
    /**
     * Port of the Temporal SDK's own Prometheus exporter (`/metrics`: slots, polls, task latencies); 0: none.
     * Process-wide: the first worker a process starts sets it.
     */
    sdkMetricsPort: number;
    /** Address both metrics ports bind to (`0.0.0.0` in a container, for the scraper and the probes). */
    metricsHost: string;
    /**
     * `/healthz` fails (503) once an activity in flight has not heartbeat (a step, a stage, a checkpoint) for this
     * long: its numerics hang and hold their slot (and GPU) until the process restarts.
     */
    stallSeconds: number;
    /**
     * In Kubernetes, keep this pod's `controller.kubernetes.io/pod-deletion-cost` annotation at the activities it
     * runs (summed over its worker processes), so a scale-down removes idle pods first. Needs POD_NAME and
     * POD_NAMESPACE (downward API), the pod's service-account token, and RBAC get/patch on pods.
     */
    podDeletionCost: boolean;
  };
  workflows: {
    /** A long workflow continues as new once its history has this many events (or the server suggests it). */
    continueAsNewEvents: number;
  };
  timeouts: {
    /** An activity silent for this long is presumed dead and retried on another worker. */
    heartbeatMs: number;
    /** Upper bound for one activity attempt. */
    activityStartToCloseMs: number;
  };
  data: {
    /** Base URL of a mirror serving the CIFAR archives under their published names (empty: the canonical host). */
    cifarMirror: string;
  };
  /**
   * tfjs backend. `auto` takes the first that initializes of: torch on CUDA, tfjs-node-gpu,
   * WebGPU, tfjs-node, torch on the CPU, WASM, the pure-JS cpu backend (order measured by
   * `npm run bench -- engine`).
   */
  backend: 'auto' | 'torch' | 'tensorflow' | 'wasm' | 'cpu' | 'webgpu';
  codec: {
    /** AES-256-GCM key (32 bytes, base64) encrypting every workflow payload; empty: payloads in the clear. */
    key: string;
    /** Port of `repro codec-server` (on loopback), and the one browser origin it answers: the Web UI's (CORS). */
    serverPort: number;
    uiOrigin: string;
    /** Bearer token every codec-server request must carry (empty: none; the server is loopback-only either way). */
    serverToken: string;
    /** Largest request body the codec server reads; a larger one is refused (413) without being buffered. */
    serverMaxBodyBytes: number;
    /** Serve `/encode` too (it lets any caller that reaches the server make payloads the workers accept). */
    serverEncode: boolean;
  };
  /** The `torch` backend's speed and reproducibility switches (src/engine/torch/backend.ts). */
  torch: {
    /** `auto`: CUDA when this libtorch has it, else the CPU. */
    device: 'auto' | 'cpu' | 'cuda';
    /** Intra-op threads; 0: one per core. */
    threads: number;
    /** Deterministic algorithms: bit-identical replays on the CPU; on the GPU, slower kernels, no atomics. */
    deterministic: boolean;
    /** cuDNN autotuning: faster convolutions, run-to-run variation on the GPU. */
    cudnnBenchmark: boolean;
    /** TF32 tensor-core matmuls and convolutions (Ampere and later): faster, 10-bit mantissa inputs. */
    tf32: boolean;
    /**
     * Native programs (src/engine/torch/native.ts): `auto` (the default) runs what compiles as one
     * libtorch call per step, loss, gradient or HVP and the rest on tfjs kernels with a logged
     * reason; `on`: native or an error; `off`: tfjs kernels only.
     */
    native: NativeMode;
  };
}

type Kind = 'string' | 'int' | 'bool' | 'enum' | 'url';

interface KeySpec {
  kind: Kind;
  default: string | number | boolean;
  env: string[];
  description: string;
  values?: readonly string[];
  min?: number;
  max?: number;
}

/** Every configuration key, by dotted path. */
export const SCHEMA: Record<string, KeySpec> = {
  'temporal.address': {
    kind: 'string',
    default: '127.0.0.1:7233',
    env: ['REPRO_TEMPORAL_ADDRESS', 'TEMPORAL_ADDRESS'],
    description: 'Temporal frontend host:port',
  },
  'temporal.namespace': {
    kind: 'string',
    default: 'default',
    env: ['REPRO_TEMPORAL_NAMESPACE', 'TEMPORAL_NAMESPACE'],
    description: 'Temporal namespace',
  },
  'temporal.tls.enabled': {
    kind: 'bool',
    default: false,
    env: ['REPRO_TEMPORAL_TLS', 'TEMPORAL_TLS'],
    description: 'TLS to the Temporal frontend (implied by the paths and apiKey)',
  },
  'temporal.tls.caPath': {
    kind: 'string',
    default: '',
    env: ['REPRO_TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_CA'],
    description: 'PEM file of the CA of the server certificate',
  },
  'temporal.tls.certPath': {
    kind: 'string',
    default: '',
    env: ['REPRO_TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CERT'],
    description: 'mTLS client certificate (PEM file)',
  },
  'temporal.tls.keyPath': {
    kind: 'string',
    default: '',
    env: ['REPRO_TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_KEY'],
    description: 'mTLS client key (PEM file)',
  },
  'temporal.tls.serverName': {
    kind: 'string',
    default: '',
    env: ['REPRO_TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_TLS_SERVER_NAME'],
    description: 'name checked on the server certificate',
  },
  'temporal.apiKey': {
    kind: 'string',
    default: '',
    env: ['REPRO_TEMPORAL_API_KEY', 'TEMPORAL_API_KEY'],
    description: 'Temporal Cloud API key (implies TLS)',
  },
  'temporal.serverTls.certPath': {
    kind: 'string',
    default: '',
    env: ['REPRO_TEMPORAL_SERVER_TLS_CERT'],
    description: 'certificate (PEM) `repro up` serves on a non-loopback temporal.address',
  },
  'temporal.serverTls.keyPath': {
    kind: 'string',
    default: '',
    env: ['REPRO_TEMPORAL_SERVER_TLS_KEY'],
    description: 'key (PEM) of temporal.serverTls.certPath',
  },
  'temporal.serverTls.clientCaPath': {
    kind: 'string',
    default: '',
    env: ['REPRO_TEMPORAL_SERVER_TLS_CLIENT_CA'],
    description: 'CA (PEM) that client certificates must chain to (empty: clients authenticate by temporal.apiKey)',
  },
  'temporal.uiPort': {
    kind: 'int',
    default: 8233,
    env: ['REPRO_TEMPORAL_UI_PORT'],
    description: 'Web UI port of the embedded dev server',
    min: 1,
    max: 65535,
  },
  'temporal.webUi': {
    kind: 'url',
    default: '',
    env: ['REPRO_TEMPORAL_WEB_UI'],
    description: "the cluster's Web UI (http(s) URL) for run links; empty: the dev server's on a loopback address",
  },
  'taskQueues.cpu': {
    kind: 'string',
    default: 'repro-cpu',
    env: ['REPRO_TASK_QUEUES_CPU'],
    description: 'task queue for light activities',
  },
  'taskQueues.gpu': {
    kind: 'string',
    default: 'repro-gpu',
    env: ['REPRO_TASK_QUEUES_GPU'],
    description: 'task queue for accelerator-bound activities',
  },
  's3.endpoint': {
    kind: 'string',
    default: 'http://127.0.0.1:9000',
    env: ['REPRO_S3_ENDPOINT', 'AWS_ENDPOINT_URL_S3'],
    description: 'S3 endpoint URL (empty: AWS default)',
  },
  's3.region': {
    kind: 'string',
    default: 'us-east-1',
    env: ['REPRO_S3_REGION', 'AWS_REGION'],
    description: 'S3 region',
  },
  's3.bucket': {
    kind: 'string',
    default: 'repro',
    env: ['REPRO_S3_BUCKET'],
    description: 'bucket holding runs, checkpoints, cache and artifacts',
  },
  's3.prefix': { kind: 'string', default: '', env: ['REPRO_S3_PREFIX'], description: 'key prefix for all objects' },
  's3.accessKeyId': {
    kind: 'string',
    default: 'repro',
    env: ['REPRO_S3_ACCESS_KEY_ID', 'AWS_ACCESS_KEY_ID'],
    description: 'S3 access key id',
  },
  's3.secretAccessKey': {
    kind: 'string',
    default: 'repro-secret-key',
    env: ['REPRO_S3_SECRET_ACCESS_KEY', 'AWS_SECRET_ACCESS_KEY'],
    description: 'S3 secret key',
  },
  's3.forcePathStyle': {
    kind: 'bool',
    default: true,
    env: ['REPRO_S3_FORCE_PATH_STYLE'],
    description: 'path-style S3 addressing',
  },
  's3.consolePort': {
    kind: 'int',
    default: 9001,
    env: ['REPRO_S3_CONSOLE_PORT'],
    description: 'console port of the embedded S3 server (0: off)',
    min: 0,
    max: 65535,
  },
  dataDir: {
    kind: 'string',
    default: '.data',
    env: ['REPRO_DATA_DIR'],
    description: 'data, logs and pids of the embedded servers',
  },
  toolsDir: {
    kind: 'string',
    default: '.tools',
    env: ['REPRO_TOOLS_DIR'],
    description: 'where server binaries are built and cached',
  },
  'worker.concurrency': {
    kind: 'int',
    default: 4,
    env: ['REPRO_WORKER_CONCURRENCY'],
    description: 'concurrent activities on the cpu task queue',
    min: 1,
    max: 1024,
  },
  'worker.gpuSlots': {
    kind: 'int',
    default: 1,
    env: ['REPRO_WORKER_GPU_SLOTS'],
    description: 'concurrent activities on the gpu task queue (one model per GPU)',
    min: 1,
    max: 64,
  },
  'worker.gpuPrefetch': {
    kind: 'int',
    // 0 on a cluster: a task held behind a busy worker's hours-long stage waits while another
    // worker idles. The main job's workers (short stages, one machine) take 1.
    default: 0,
    env: ['REPRO_WORKER_GPU_PREFETCH'],
    description: 'gpu activity tasks taken beyond the slots, waiting in the worker (no poll round trip between stages)',
    min: 0,
    max: 64,
  },
  'worker.gpus': {
    kind: 'int',
    default: 0,
    env: ['REPRO_WORKER_GPUS'],
    description: 'GPU worker processes to start, one device each (0: serve the gpu queue in this process)',
    min: 0,
    max: 64,
  },
  'worker.shutdownGraceMs': {
    kind: 'int',
    default: 30_000,
    env: ['REPRO_WORKER_SHUTDOWN_GRACE_MS'],
    description: 'time for final checkpoints on shutdown',
    min: 0,
  },
  'worker.metricsPort': {
    kind: 'int',
    default: 0,
    env: ['REPRO_WORKER_METRICS_PORT'],
    description: "port of the worker's /metrics, /healthz and /readyz (0: off)",
    min: 0,
    max: 65535,
  },
  'worker.sdkMetricsPort': {
    kind: 'int',
    default: 0,
    env: ['REPRO_WORKER_SDK_METRICS_PORT'],
    description: "port of the Temporal SDK's Prometheus /metrics (0: off; the process's first worker sets it)",
    min: 0,
    max: 65535,
  },
  'worker.metricsHost': {
    kind: 'string',
    default: '127.0.0.1',
    env: ['REPRO_WORKER_METRICS_HOST'],
    description: 'address the metrics ports bind to (0.0.0.0 in a container)',
  },
  'worker.stallSeconds': {
    kind: 'int',
    default: 600,
    env: ['REPRO_WORKER_STALL_SECONDS'],
    description: '/healthz fails once an activity in flight has not heartbeat for this long',
    min: 1,
  },
  'worker.podDeletionCost': {
    kind: 'bool',
    default: false,
    env: ['REPRO_WORKER_POD_DELETION_COST'],
    description: "keep the pod's pod-deletion-cost annotation at its activities in flight (Kubernetes)",
  },
  'workflows.continueAsNewEvents': {
    kind: 'int',
    default: 10_000,
    env: ['REPRO_WORKFLOWS_CONTINUE_AS_NEW_EVENTS'],
    description: 'history events after which long workflows continue as new',
    min: 5,
  },
  'timeouts.heartbeatMs': {
    kind: 'int',
    default: 20_000,
    env: ['REPRO_TIMEOUTS_HEARTBEAT_MS'],
    description: 'heartbeat timeout of long activities',
    min: 1000,
  },
  'timeouts.activityStartToCloseMs': {
    kind: 'int',
    default: 6 * 3600_000,
    env: ['REPRO_TIMEOUTS_ACTIVITY_START_TO_CLOSE_MS'],
    description: 'limit of one activity attempt',
    min: 1000,
  },
  'data.cifarMirror': {
    kind: 'string',
    default: '',
    env: ['REPRO_DATA_CIFAR_MIRROR'],
    description: 'base URL of a mirror of the CIFAR archives (empty: www.cs.toronto.edu)',
  },
  backend: {
    kind: 'enum',
    default: 'auto',
    env: ['REPRO_BACKEND'],
    description: 'tfjs backend',
    values: ['auto', 'torch', 'tensorflow', 'wasm', 'cpu', 'webgpu'],
  },
  'codec.key': {
    kind: 'string',
    default: '',
    env: ['REPRO_CODEC_KEY'],
    description: 'payload encryption key, 32 bytes base64 (empty: off)',
  },
  'codec.serverPort': {
    kind: 'int',
    default: 8888,
    env: ['REPRO_CODEC_SERVER_PORT'],
    description: 'port of repro codec-server',
    min: 1,
    max: 65535,
  },
  'codec.uiOrigin': {
    kind: 'string',
    default: 'http://127.0.0.1:8233',
    env: ['REPRO_CODEC_UI_ORIGIN'],
    description: 'Web UI origin the codec server answers',
  },
  'codec.serverToken': {
    kind: 'string',
    default: '',
    env: ['REPRO_CODEC_SERVER_TOKEN'],
    description: 'bearer token the codec server requires (empty: none)',
  },
  'codec.serverMaxBodyBytes': {
    kind: 'int',
    default: 4 * 1024 * 1024,
    env: ['REPRO_CODEC_SERVER_MAX_BODY_BYTES'],
    description: 'largest request body the codec server reads',
    min: 1024,
  },
  'codec.serverEncode': {
    kind: 'bool',
    default: false,
    env: ['REPRO_CODEC_SERVER_ENCODE'],
    description: 'serve /encode as well as /decode',
  },
  'torch.device': {
    kind: 'enum',
    default: 'auto',
    env: ['REPRO_TORCH_DEVICE'],
    description: 'torch backend device',
    values: ['auto', 'cpu', 'cuda'],
  },
  'torch.threads': {
    kind: 'int',
    default: 0,
    env: ['REPRO_TORCH_THREADS'],
    description: 'torch intra-op threads (0: one per core)',
    min: 0,
    max: 1024,
  },
  'torch.deterministic': {
    kind: 'bool',
    default: true,
    env: ['REPRO_TORCH_DETERMINISTIC'],
    description: 'torch deterministic algorithms',
  },
  'torch.cudnnBenchmark': {
    kind: 'bool',
    default: false,
    env: ['REPRO_TORCH_CUDNN_BENCHMARK'],
    description: 'cuDNN autotuning (GPU)',
  },
  'torch.tf32': {
    kind: 'bool',
    default: false,
    env: ['REPRO_TORCH_TF32'],
    description: 'TF32 matmuls and convolutions (GPU)',
  },
  'torch.native': {
    kind: 'enum',
    default: DEFAULT_NATIVE_MODE,
    env: ['REPRO_TORCH_NATIVE'],
    description: 'native programs: auto (what compiles), on (all, or an error), off (tfjs kernels)',
    values: NATIVE_MODES,
  },
};

/** Thrown for any configuration problem; the message names the key and the fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** What infra/ hands to {@link resolveConfig}. */
export interface ConfigSources {
  /** The Temporal CLI's client config profile, by dotted key: above the defaults, below everything else. */
  profile?: { origin: string; values: Record<string, unknown> };
  /** Parsed JSON config file (nested objects), and its path for messages. */
  file?: { path: string; content: unknown };
  /** Environment variables (usually `process.env`). */
  env?: Record<string, string | undefined>;
  /** `key=value` overrides from the CLI, by dotted key. */
  flags?: Record<string, string>;
}

/** Merge defaults, file, environment and flags, and validate once. */
export function resolveConfig(sources: ConfigSources = {}): ReproConfig {
  return resolveConfigWithOrigins(sources).config;
}

/**
 * {@link resolveConfig}, and where each key's value came from (`default`, `profile 'x' in FILE`,
 * `config file F`, `environment variable V`, `flag --conf k`). Layers, later wins: defaults, the
 * Temporal CLI's profile, the config file, the environment, flags.
 */
export function resolveConfigWithOrigins(sources: ConfigSources = {}): {
  config: ReproConfig;
  origins: Record<string, string>;
} {
  const flat: Record<string, string | number | boolean> = {};
  const origins: Record<string, string> = {};
  const set = (key: string, value: unknown, origin: string): void => {
    flat[key] = coerce(key, value, origin);
    origins[key] = origin;
  };
  for (const [key, spec] of Object.entries(SCHEMA)) {
    flat[key] = spec.default;
    origins[key] = 'default';
  }
  for (const [key, value] of Object.entries(sources.profile?.values ?? {})) {
    set(key, value, `Temporal ${sources.profile!.origin}`);
  }
  if (sources.file) {
    for (const [key, value] of flatten(sources.file.content, sources.file.path)) {
      set(key, value, `config file ${sources.file.path}`);
    }
  }
  for (const [key, spec] of Object.entries(SCHEMA)) {
    // The first variable named wins, so REPRO_* beats the generic AWS_/TEMPORAL_ ones, and the Temporal
    // CLI's current names (TEMPORAL_TLS_CLIENT_CERT_PATH) beat its old ones (TEMPORAL_TLS_CERT).
    const name = spec.env.find((n) => sources.env?.[n] !== undefined && sources.env[n] !== '');
    if (name !== undefined) set(key, sources.env![name]!, `environment variable ${name}`);
  }
  for (const [key, value] of Object.entries(sources.flags ?? {})) {
    set(key, value, `flag --conf ${key}`);
  }
  return { config: unflatten(flat) as unknown as ReproConfig, origins };
}

function flatten(content: unknown, path: string, prefix = ''): Array<[string, unknown]> {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new ConfigError(`config file ${path}: expected a JSON object${prefix ? ` at '${prefix}'` : ''}`);
  }
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(content)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(key in SCHEMA))
      out.push(...flatten(v, path, key));
    else out.push([key, v]);
  }
  return out;
}

/** Keys whose values are never echoed in a message: their names say they hold a secret. */
export function looksSecret(key: string): boolean {
  return /secret|key|token|password|passwd|credential|auth/i.test(key);
}

/** The known key a mistyped one most likely meant: the same but for case or up to two edits. */
function nearestKey(key: string): string | undefined {
  const distance = (a: string, b: string): number => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const next = [i];
      for (let j = 1; j <= b.length; j++)
        next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row = next;
    }
    return row[b.length]!;
  };
  const scored = Object.keys(SCHEMA).map((k) => ({ k, d: distance(key.toLowerCase(), k.toLowerCase()) }));
  const best = scored.sort((a, b) => a.d - b.d)[0];
  return best && best.d <= 2 ? best.k : undefined;
}

function coerce(key: string, value: unknown, origin: string): string | number | boolean {
  const spec = SCHEMA[key];
  if (!spec) {
    // The value is never shown: a mistyped secret key (`s3.secretAccesKey`) still holds a secret.
    const near = nearestKey(key);
    const section = Object.keys(SCHEMA).filter((k) => k.startsWith(`${key}.`));
    throw new ConfigError(
      `unknown config key '${key}' (from ${origin}); ` +
        (near
          ? `did you mean '${near}'?`
          : section.length
            ? `'${key}' is a section: give it an object of ${section.map((k) => k.slice(key.length + 1)).join(', ')}`
            : `known keys: ${Object.keys(SCHEMA).join(', ')}`),
    );
  }
  const bad = (want: string): never => {
    const got = looksSecret(key) ? 'a value not shown (it may be a secret)' : JSON.stringify(value);
    throw new ConfigError(`config key '${key}' must be ${want}, got ${got} (from ${origin})`);
  };
  switch (spec.kind) {
    case 'string':
      if (typeof value !== 'string') bad('a string');
      return value as string;
    case 'url':
      if (typeof value !== 'string' || (value !== '' && !isHttpUrl(value)))
        bad('an http:// or https:// URL (or empty)');
      return value as string;
    case 'enum':
      if (typeof value !== 'string' || !spec.values!.includes(value)) bad(`one of ${spec.values!.join('|')}`);
      return value as string;
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      return bad('true or false');
    case 'int': {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && /^-?\d+$/.test(value.trim())
            ? Number(value)
            : NaN;
      if (!Number.isSafeInteger(n)) bad('an integer');
      if (spec.min !== undefined && n < spec.min) bad(`an integer >= ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) bad(`an integer <= ${spec.max}`);
      return n;
    }
  }
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function unflatten(flat: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = value;
  }
  return out;
}

/** Keys whose values are secrets: masked in saved configs, their variables kept from child servers. */
export const SECRET_CONFIG_KEYS = [
  'temporal.apiKey',
  's3.secretAccessKey',
  'codec.key',
  'codec.serverToken',
  'data.cifarMirror',
] as const;

const mask = (value: string): string => (value ? '***' : '');

/** A URL with its user name, password and query string masked (a mirror's credentials, a presigned token). */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password && !u.search) return url;
    return `${u.protocol}//${u.username || u.password ? '***@' : ''}${u.host}${u.pathname}${u.search ? '?***' : ''}`;
  } catch {
    // Not a URL: nothing tells what part is secret, so none of it is kept.
    return mask(url);
  }
}

/** The config as saved in manifests and results: secrets removed. */
export function publicConfig(config: ReproConfig): ReproConfig {
  return {
    ...config,
    temporal: {
      ...config.temporal,
      apiKey: mask(config.temporal.apiKey),
      // Metadata often carries credentials (an authorization header): names kept, values masked.
      ...(config.temporal.grpcMeta
        ? { grpcMeta: Object.fromEntries(Object.keys(config.temporal.grpcMeta).map((k) => [k, '***'])) }
        : {}),
    },
    s3: { ...config.s3, secretAccessKey: mask(config.s3.secretAccessKey) },
    codec: { ...config.codec, key: mask(config.codec.key), serverToken: mask(config.codec.serverToken) },
    data: { ...config.data, cifarMirror: maskUrl(config.data.cifarMirror) },
  };
}
