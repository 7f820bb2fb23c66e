/**
 * The Helm chart (infra/helm/repro), offline: `helm lint` and `helm template` for each values
 * file, every rendered manifest decoded strictly into the Kubernetes API types (k8s.io/api, via
 * infra/helm/validate), and what the chart promises checked in the rendered objects: one
 * Deployment per task queue, GPU requests and one slot per GPU, a grace period that covers the
 * final checkpoint, PodDisruptionBudgets, KEDA's Temporal scaler on the queues' backlog, secrets
 * wired as env and files, metrics ports and probes (a PodMonitor when asked), and a config file
 * that repro's own config loader accepts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { resolveConfig } from '../temporal.config';
import { CHART, ensureHelm, HELM, KEDA, render, VALIDATE, type Doc } from './helm-render';
import { ruleOf, simulate } from './scaling-sim';

before(ensureHelm);

const VALUES = [[], ['values-aws-s3.yaml'], ['values-incluster-s3.yaml'], ['values-temporal-cloud.yaml']];

test('helm lint passes for every values file', () => {
  for (const v of VALUES) {
    const r = spawnSync(HELM, ['lint', '--strict', CHART, ...v.flatMap((f) => ['-f', path.join(CHART, f)])], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `${v.join(',') || 'defaults'}: ${r.stdout}${r.stderr}`);
  }
});

test('every rendered manifest decodes strictly into the Kubernetes API types', () => {
  for (const v of [
    ...VALUES.map((x) => ({ v: x, s: [] as string[] })),
    {
      v: [],
      s: [
        'temporal.tls.existingSecret=repro-tls',
        'codec.existingSecret=repro-codec',
        'workers.cpu.autoscaling.enabled=true',
        'metrics.podMonitor.enabled=true',
        'metrics.podMonitor.labels.release=kube-prometheus-stack',
        'grafana.dashboard.enabled=true',
        'workers.podDeletionCost.enabled=true',
      ],
    },
  ]) {
    const { yaml } = render(v.v, v.s);
    const r = spawnSync(VALIDATE, [], { input: yaml, encoding: 'utf8' });
    assert.equal(r.status, 0, `${v.v.join(',') || 'defaults'} ${v.s.join(' ')}: ${r.stderr}`);
  }
  const broken = spawnSync(VALIDATE, [], {
    input: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: x }\nspec: { replicas: 1, templat: {} }\n',
    encoding: 'utf8',
  });
  assert.equal(broken.status, 1, 'a misspelled field fails');
  assert.match(broken.stderr, /Deployment\/x: .*unknown field "templat"/);
});

test(
  'the rendered chart: a Deployment per queue, GPUs and slots, grace, PDBs, KEDA on the backlog, secrets, ' +
    'a config repro accepts',
  () => {
    const { docs } = render(
      ['values-temporal-cloud.yaml', 'values-incluster-s3.yaml'],
      ['temporal.tls.existingSecret=repro-tls', 'workers.gpu.gpusPerPod=2'],
    );
    const byKind = (kind: string): Doc[] => docs.filter((d) => d.kind === kind);
    const deployments = byKind('Deployment');
    assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['r-repro-cpu', 'r-repro-gpu']);
    type Pod = {
      terminationGracePeriodSeconds: number;
      containers: Array<{
        args: string[];
        env: Array<{ name: string; value?: string; valueFrom?: unknown }>;
        resources: { limits: Record<string, unknown> };
      }>;
    };
    const pod = (name: string): Pod =>
      (deployments.find((d) => d.metadata.name === name)!.spec as { template: { spec: Pod } }).template.spec;
    const gpu = pod('r-repro-gpu'),
      cpu = pod('r-repro-cpu');
    // Two GPUs: two worker processes, one device and one slot each (not two slots on GPU 0).
    assert.deepEqual(gpu.containers[0]!.args, ['worker', '--queue', 'gpu', '--gpus', '2']);
    assert.deepEqual(cpu.containers[0]!.args, ['worker', '--queue', 'cpu']);
    assert.equal(gpu.containers[0]!.resources.limits['nvidia.com/gpu'], 2);
    assert.equal(gpu.terminationGracePeriodSeconds, 120, '90 s of final checkpoint plus 30');
    const env = new Map(gpu.containers[0]!.env.map((e) => [e.name, e]));
    for (const secret of ['REPRO_TEMPORAL_API_KEY', 'REPRO_S3_ACCESS_KEY_ID', 'REPRO_S3_SECRET_ACCESS_KEY'])
      assert.ok(env.get(secret)?.valueFrom, `${secret} from a Secret`);
    assert.equal(byKind('PodDisruptionBudget').length, 2);
    const replicas = (name: string): unknown =>
      (deployments.find((d) => d.metadata.name === name)!.spec as { replicas?: number }).replicas;
    assert.equal(replicas('r-repro-gpu'), undefined, 'KEDA owns the gpu pool: no replicas for helm upgrade to reset');
    assert.equal(replicas('r-repro-cpu'), 1);
    const scaled = byKind('ScaledObject');
    assert.deepEqual(
      scaled.map((s) => s.metadata.name),
      ['r-repro-gpu'],
      'the gpu queue scales on its backlog by default',
    );
    const trigger = (
      scaled[0]!.spec as {
        triggers: Array<{ type: string; metadata: Record<string, string>; authenticationRef: { name: string } }>;
      }
    ).triggers[0]!;
    assert.equal(trigger.type, 'temporal');
    assert.equal(trigger.metadata.taskQueue, 'repro-gpu');
    assert.equal(trigger.metadata.queueTypes, 'activity');
    assert.equal(trigger.authenticationRef.name, 'r-repro-temporal');
    assert.equal(byKind('TriggerAuthentication').length, 1);
    assert.equal(byKind('Job')[0]!.metadata.name, 'r-repro-search-attributes');

    // The mounted config file is one layer of repro's own config: the loader accepts it as is.
    const file = JSON.parse(byKind('ConfigMap')[0]!.data!['config.json']!) as unknown;
    const config = resolveConfig({
      file: { path: 'config.json', content: file },
      env: { REPRO_TEMPORAL_API_KEY: 'k' },
    });
    assert.equal(config.temporal.address, 'my-namespace.a1b2c.tmprl.cloud:7233');
    assert.equal(config.temporal.tls.enabled, true);
    assert.equal(config.temporal.tls.caPath, '/etc/repro/tls/ca.crt');
    assert.equal(config.s3.endpoint, 'http://minio.storage.svc.cluster.local:9000');
    assert.deepEqual(
      [config.worker.gpus, config.worker.gpuSlots],
      [0, 1],
      'the shared config starts no gpu processes (the cpu pool reads it too): --gpus does, one slot each',
    );
    assert.equal(config.worker.shutdownGraceMs, 90_000);
    const aws = JSON.parse(
      render(['values-aws-s3.yaml']).docs.find((d) => d.kind === 'ConfigMap')!.data!['config.json']!,
    ) as unknown;
    assert.equal(
      resolveConfig({ file: { path: 'config.json', content: aws } }).s3.accessKeyId,
      '',
      'no keys: the AWS credential chain',
    );
  },
);

test('the workers serve metrics: container ports, probes on /healthz and /readyz, a PodMonitor when asked', () => {
  type Container = {
    ports: Array<{ name: string; containerPort: number }>;
    livenessProbe: { httpGet: { path: string; port: string }; timeoutSeconds: number };
    readinessProbe: { httpGet: { path: string; port: string } };
  };
  const { docs } = render([]);
  for (const d of docs.filter((x) => x.kind === 'Deployment')) {
    const c = (d.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0]!;
    assert.deepEqual(
      c.ports.map((p) => [p.name, p.containerPort]),
      [
        ['metrics', 9464],
        ['sdk-metrics', 9465],
      ],
      d.metadata.name,
    );
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'metrics' });
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'metrics' });
  }
  assert.equal(docs.filter((d) => d.kind === 'PodMonitor').length, 0, 'no PodMonitor by default');
  // The worker serves what the probes ask for: the config file sets the same ports, on every address.
  const file = JSON.parse(docs.find((d) => d.kind === 'ConfigMap')!.data!['config.json']!) as unknown;
  const config = resolveConfig({ file: { path: 'config.json', content: file } });
  assert.deepEqual(
    [config.worker.metricsPort, config.worker.sdkMetricsPort, config.worker.metricsHost, config.worker.stallSeconds],
    [9464, 9465, '0.0.0.0', 600],
  );

  const monitored = render([], ['metrics.podMonitor.enabled=true', 'metrics.podMonitor.labels.release=prom']).docs;
  const pm = monitored.filter((d) => d.kind === 'PodMonitor');
  assert.equal(pm.length, 1);
  const spec = pm[0]!.spec as {
    selector: { matchLabels: Record<string, string> };
    podMetricsEndpoints: Array<{ port: string; path: string }>;
  };
  assert.equal((pm[0]!.metadata as { labels?: Record<string, string> }).labels?.release, 'prom');
  assert.equal(spec.selector.matchLabels['app.kubernetes.io/instance'], 'r');
  assert.deepEqual(
    spec.podMetricsEndpoints.map((e) => [e.port, e.path]),
    [
      ['metrics', '/metrics'],
      ['sdk-metrics', '/metrics'],
    ],
  );
});

/** Every pod template in a rendered stream: Deployments, Jobs (hooks included), bare Pods. */
type PodSpec = {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  automountServiceAccountToken?: boolean;
  imagePullSecrets?: Array<{ name: string }>;
  securityContext?: SecurityContext;
  volumes?: Array<Record<string, unknown> & { name: string }>;
  containers: Container[];
  initContainers?: Container[];
};
type SecurityContext = {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  fsGroup?: number;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: string };
};
type Container = {
  name: string;
  securityContext?: SecurityContext;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  ports?: Array<{ hostPort?: number }>;
};

function podSpecs(docs: Doc[]): Array<{ where: string; pod: PodSpec }> {
  const out: Array<{ where: string; pod: PodSpec }> = [];
  for (const d of docs) {
    const spec = d.spec as { template?: { spec?: PodSpec }; jobTemplate?: { spec: { template: { spec: PodSpec } } } };
    const pod =
      d.kind === 'Pod'
        ? (d.spec as unknown as PodSpec)
        : (spec?.template?.spec ?? spec?.jobTemplate?.spec.template.spec);
    if (pod) out.push({ where: `${d.kind}/${d.metadata.name}`, pod });
  }
  return out;
}

const ALLOWED_VOLUMES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];

/**
 * The Pod Security Standard "restricted" (kubernetes.io/docs/concepts/security/pod-security-standards),
 * rule by rule, plus what the chart adds: no service account token where no pod calls the API, and
 * resources on every container. Returns the violations, one line each.
 */
function restrictedViolations(where: string, pod: PodSpec): string[] {
  const v: string[] = [];
  const psc = pod.securityContext ?? {};
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) v.push(`${where}: host namespaces`);
  for (const vol of pod.volumes ?? []) {
    const type = Object.keys(vol).find((k) => k !== 'name');
    if (!type || !ALLOWED_VOLUMES.includes(type)) v.push(`${where}: volume ${vol.name} of type ${type}`);
  }
  if (psc.runAsUser === 0) v.push(`${where}: pod runAsUser 0`);
  if (psc.seccompProfile && !['RuntimeDefault', 'Localhost'].includes(psc.seccompProfile.type))
    v.push(`${where}: pod seccompProfile ${psc.seccompProfile.type}`);
  if (pod.automountServiceAccountToken !== false) v.push(`${where}: automountServiceAccountToken is not false`);
  for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
    const at = `${where} container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.privileged) v.push(`${at}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) v.push(`${at}: allowPrivilegeEscalation is not false`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) v.push(`${at}: capabilities.drop lacks ALL`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') v.push(`${at}: adds ${cap}`);
    if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) v.push(`${at}: runAsNonRoot is not true`);
    if (sc.runAsUser === 0) v.push(`${at}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
    if (!seccomp || !['RuntimeDefault', 'Localhost'].includes(seccomp)) v.push(`${at}: seccompProfile ${seccomp}`);
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`${at}: hostPort ${p.hostPort}`);
    if (!c.resources?.requests || !c.resources.limits) v.push(`${at}: no resource requests and limits`);
  }
  return v;
}

test('every pod the chart renders (Deployments, Jobs, hooks) meets Pod Security "restricted"', () => {
  for (const v of [
    ...VALUES.map((x) => ({ v: x, s: [] as string[] })),
    {
      v: ['values-temporal-cloud.yaml'],
      s: ['temporal.tls.existingSecret=repro-tls', 'imagePullSecrets[0].name=regcred'],
    },
    // The API token the deletion cost needs is a projected volume of the worker container's, not an automount.
    { v: [], s: ['workers.podDeletionCost.enabled=true'] },
  ]) {
    const pods = podSpecs(render(v.v, v.s).docs);
    const label = `${v.v.join(',') || 'defaults'} ${v.s.join(' ')}`;
    assert.deepEqual(
      pods.map((p) => p.where).sort(),
      ['Deployment/r-repro-cpu', 'Deployment/r-repro-gpu', 'Job/r-repro-search-attributes'],
      label,
    );
    assert.deepEqual(
      pods.flatMap((p) => restrictedViolations(p.where, p.pod)),
      [],
      label,
    );
    if (v.s.some((s) => s.startsWith('imagePullSecrets')))
      for (const p of pods) assert.deepEqual(p.pod.imagePullSecrets, [{ name: 'regcred' }], `${label} ${p.where}`);
    for (const p of pods) {
      assert.equal(p.pod.securityContext?.runAsUser, 10001, `${p.where}: the image's user by default`);
      assert.equal(p.pod.securityContext?.fsGroup, 10001, `${p.where}`);
    }
  }
  // OpenShift's restricted SCC assigns each namespace's UID range: no fixed user or group then.
  for (const p of podSpecs(render([], ['securityContext.openshift=true']).docs)) {
    assert.deepEqual(restrictedViolations(p.where, p.pod), []);
    assert.equal(p.pod.securityContext?.runAsUser, undefined, p.where);
    assert.equal(p.pod.securityContext?.fsGroup, undefined, p.where);
  }
  // The check has teeth: a pod that escalates fails it.
  const bad = restrictedViolations('x', { containers: [{ name: 'c', securityContext: { privileged: true } }] });
  assert.ok(bad.includes('x container c: privileged') && bad.some((l) => /seccompProfile/.test(l)));
});

test("workers.podDeletionCost: RBAC, the token and the pod's name only when on; off by default", () => {
  type Worker = {
    env?: Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
    volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  };
  const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
  const look = (sets: string[]) => {
    const { docs } = render([], sets);
    const file = JSON.parse(docs.find((d) => d.kind === 'ConfigMap')!.data!['config.json']!) as unknown;
    const workers = podSpecs(docs).filter((p) => p.where.startsWith('Deployment/'));
    assert.equal(workers.length, 2);
    return {
      docs,
      rbac: docs.filter((d) => d.kind === 'Role' || d.kind === 'RoleBinding'),
      config: resolveConfig({ file: { path: 'config.json', content: file } }),
      workers: workers.map((w) => ({ ...w, container: w.pod.containers[0] as Container & Worker })),
    };
  };

  const off = look([]);
  assert.deepEqual(off.rbac, [], 'no Role or RoleBinding by default');
  assert.equal(off.config.worker.podDeletionCost, false);
  for (const w of off.workers) {
    assert.equal(w.pod.automountServiceAccountToken, false, w.where);
    assert.ok(!(w.pod.volumes ?? []).some((v) => 'projected' in v), `${w.where}: no token volume`);
    assert.ok(!(w.container.volumeMounts ?? []).some((m) => m.mountPath === TOKEN_DIR), w.where);
    assert.ok(!(w.container.env ?? []).some((e) => e.name === 'POD_NAME'), w.where);
  }

  const on = look(['workers.podDeletionCost.enabled=true']);
  assert.equal(on.config.worker.podDeletionCost, true, 'the workers are told (worker.podDeletionCost)');
  const role = on.rbac.find((d) => d.kind === 'Role') as Doc & { rules: unknown };
  assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'patch'] }]);
  const binding = on.rbac.find((d) => d.kind === 'RoleBinding') as Doc & {
    roleRef: { kind: string; name: string };
    subjects: unknown;
  };
  assert.deepEqual(binding.roleRef, {
    apiGroup: 'rbac.authorization.k8s.io',
    kind: 'Role',
    name: role.metadata.name,
  });
  const account = on.docs.find((d) => d.kind === 'ServiceAccount')!;
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: account.metadata.name, namespace: 'default' }]);
  for (const w of on.workers) {
    assert.equal(w.pod.automountServiceAccountToken, false, `${w.where}: still no automount`);
    assert.equal((w.pod as { serviceAccountName?: string }).serviceAccountName, account.metadata.name);
    const env = Object.fromEntries((w.container.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    assert.equal(env.POD_NAME, 'metadata.name', w.where);
    assert.equal(env.POD_NAMESPACE, 'metadata.namespace', w.where);
    const mount = (w.container.volumeMounts ?? []).find((m) => m.mountPath === TOKEN_DIR);
    assert.equal(mount?.readOnly, true, `${w.where}: the token where in-cluster clients look`);
    const volume = (w.pod.volumes ?? []).find((v) => v.name === mount!.name) as unknown as {
      projected: { sources: Array<Record<string, unknown>> };
    };
    assert.deepEqual(
      volume.projected.sources.map((s) => Object.keys(s)[0]),
      ['serviceAccountToken', 'configMap', 'downwardAPI'],
      `${w.where}: a bound token, the cluster CA (kube-root-ca.crt) and the namespace`,
    );
  }

  // Binding pod patches to the namespace's default account would give them to every pod that uses it.
  const r = spawnSync(
    HELM,
    ['template', 'r', CHART, '--set', 'workers.podDeletionCost.enabled=true', '--set', 'serviceAccount.create=false'],
    { encoding: 'utf8' },
  );
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /serviceAccount\.name/);
  const named = look([
    'workers.podDeletionCost.enabled=true',
    'serviceAccount.create=false',
    'serviceAccount.name=repro-workers',
  ]);
  const subjects = (
    named.rbac.find((d) => d.kind === 'RoleBinding') as unknown as { subjects: Array<{ name: string }> }
  ).subjects;
  assert.equal(subjects[0]!.name, 'repro-workers');
});

test('KEDA is optional: no ScaledObject without its API or with autoscaling off, and `replicas` back', () => {
  for (const { sets, apis, why } of [
    { sets: [] as string[], apis: [] as string[], why: 'a cluster without KEDA' },
    { sets: ['workers.gpu.autoscaling.enabled=false'], apis: KEDA, why: 'autoscaling off' },
    { sets: ['workers.gpu.autoscaling.enabled=false', 'temporal.apiKey.existingSecret=k'], apis: [], why: 'no KEDA' },
  ]) {
    const { docs, yaml } = render([], sets, apis);
    assert.deepEqual(
      docs.filter((d) => d.apiVersion.startsWith('keda.sh/')).map((d) => d.kind),
      [],
      `${why}: no KEDA objects`,
    );
    const gpu = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'r-repro-gpu')!;
    assert.equal((gpu.spec as { replicas: number }).replicas, 1, why);
    const r = spawnSync(VALIDATE, [], { input: yaml, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
});

test('scaling never stops a busy pod: the rendered rule, simulated over a day of GPU work', () => {
  const scaledRule = (sets: string[]) => {
    const { docs } = render([], sets);
    const so = docs.find((d) => d.kind === 'ScaledObject' && d.metadata.name === 'r-repro-gpu')!;
    // Slots per pod: one per gpu worker process, `--gpus` of them.
    const gpu = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'r-repro-gpu')!;
    const args = (gpu.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec
      .containers[0]!.args;
    const slots = Number(args[args.indexOf('--gpus') + 1]);
    return { rule: ruleOf(so.spec as Parameters<typeof ruleOf>[0]), slots };
  };
  const { rule, slots } = scaledRule(['keda.prometheusServerAddress=http://prometheus-operated.monitoring:9090']);
  assert.deepEqual(rule.terms, ['queued', 'running'], 'queued plus running work');
  assert.equal(rule.scaleDownPods, 1, 'one pod per period');
  assert.ok(rule.stabilizationWindowSeconds >= 300 && rule.scaleDownPeriodSeconds >= 60, 'a slow scale-down');

  // Six long trainings for three hours, two more for an hour, a pause, a burst of short units.
  const hour = 3600;
  const work = (t: number): number =>
    t < 60 ? 0 : t < 3 * hour ? 6 : t < 4 * hour ? 2 : t < 5 * hour ? 0 : t < 5.2 * hour ? 12 : 0;
  const ticks = simulate(rule, slots, work, 24 * hour);
  const stopped = ticks.filter((k) => k.busyPods > k.replicas);
  assert.deepEqual(stopped, [], 'no scale-down below the pods running work');
  for (const k of ticks) assert.ok(k.replicas >= 0 && k.replicas <= rule.maxReplicas);
  assert.equal(Math.max(...ticks.map((k) => k.replicas)), rule.maxReplicas, 'the burst scales out to max');
  assert.equal(ticks.at(-1)!.replicas, rule.minReplicas, 'and back to min when idle');
  const runningAt = (t: number) => ticks.find((k) => k.t >= t)!;
  assert.equal(runningAt(2 * hour).running, 6, 'every training runs');

  // Without the running count (the backlog alone, as KEDA's Temporal scaler sees it) the same
  // day stops busy pods: the simulation can tell, and the chart's comment is not idle talk.
  const backlogOnly = scaledRule([]).rule;
  assert.deepEqual(backlogOnly.terms, ['queued']);
  assert.ok(simulate(backlogOnly, slots, work, 24 * hour).some((k) => k.busyPods > k.replicas));
});

test('MIG slices: the gpu pool requests gpusPerPod of the resource named, one worker process per slice', () => {
  const { docs } = render([], ['workers.gpu.gpusPerPod=3', 'workers.gpu.gpuResource=nvidia.com/mig-1g.10gb']);
  type C = { args: string[]; resources: { limits: Record<string, unknown> } };
  const gpu = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'r-repro-gpu')!;
  const c = (gpu.spec as { template: { spec: { containers: C[] } } }).template.spec.containers[0]!;
  assert.equal(c.resources.limits['nvidia.com/mig-1g.10gb'], 3);
  assert.equal(c.resources.limits['nvidia.com/gpu'], undefined, 'no whole GPU besides the slices');
  assert.deepEqual(c.args, ['worker', '--queue', 'gpu', '--gpus', '3']);
});

test('values.schema.json: a wrong type, an unknown enum value or a misspelled key fails, naming it', () => {
  for (const [set, expected] of [
    ['workers.gpu.replicas=two', /\/workers\/gpu\/replicas': got string, want integer/],
    ['image.pullPolicy=Sometimes', /\/image\/pullPolicy': value must be one of/],
    ['workers.gpu.autoscaling.scaleDown.pods=0', /\/workers\/gpu\/autoscaling\/scaleDown\/pods': minimum/],
    ['workrs.gpu.replicas=2', /additional properties 'workrs' not allowed/],
    ['securityContext.openshift=yes', /\/securityContext\/openshift': got string, want boolean/],
    ['workers.gpu.gpuResource=mig-1g.10gb', /\/workers\/gpu\/gpuResource': 'mig-1g.10gb' does not match pattern/],
  ] as const) {
    const r = spawnSync(HELM, ['template', 'r', CHART, '--set', set], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, `${set} renders`);
    assert.match(r.stderr, expected, set);
  }
  const ok = spawnSync(HELM, ['template', 'r', CHART, '--set', 'workers.gpu.replicas=3'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
});

test('pods roll when their config changes: checksum/config follows the ConfigMap', () => {
  const checksums = (sets: string[]): string[] =>
    render([], sets)
      .docs.filter((d) => d.kind === 'Deployment')
      .map(
        (d) =>
          (d.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations[
            'checksum/config'
          ]!,
      );
  const before = checksums([]);
  assert.equal(before.length, 2);
  for (const c of before) assert.match(c, /^[0-9a-f]{64}$/);
  assert.deepEqual(checksums([]), before, 'the same values, the same checksum: no needless rollout');
  // (gpusPerPod changes the gpu pod's args and resources, which roll it without the checksum.)
  for (const change of ['s3.bucket=other', 'temporal.namespace=prod']) {
    const after = checksums([change]);
    for (const [i, c] of after.entries()) assert.notEqual(c, before[i], `${change} rolls the pods`);
  }
});

test('placement and extras per pool: affinity, spread, priority and runtime classes, annotations, env, volumes', () => {
  const { docs, yaml } = render(
    [],
    [
      'workers.gpu.runtimeClassName=nvidia',
      'workers.gpu.priorityClassName=repro-high',
      'workers.gpu.podAnnotations.team=ml',
      'workers.gpu.podLabels.cost-center=research',
      'workers.gpu.extraEnv[0].name=NCCL_DEBUG',
      'workers.gpu.extraEnv[0].value=WARN',
      'workers.gpu.extraVolumes[0].name=scratch',
      'workers.gpu.extraVolumes[0].emptyDir.sizeLimit=100Gi',
      'workers.gpu.extraVolumeMounts[0].name=scratch',
      'workers.gpu.extraVolumeMounts[0].mountPath=/scratch',
      'workers.gpu.topologySpreadConstraints[0].maxSkew=1',
      'workers.gpu.topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone',
      'workers.gpu.topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway',
      'workers.gpu.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]' +
        '.matchExpressions[0].key=nvidia.com/gpu.product',
      'workers.gpu.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]' +
        '.matchExpressions[0].operator=Exists',
    ],
  );
  assert.equal(spawnSync(VALIDATE, [], { input: yaml, encoding: 'utf8' }).status, 0);
  type T = {
    metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    spec: PodSpec & Record<string, unknown>;
  };
  const template = (name: string): T =>
    (docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name)!.spec as { template: T }).template;
  const gpu = template('r-repro-gpu');
  assert.equal(gpu.spec.runtimeClassName, 'nvidia');
  assert.equal(gpu.spec.priorityClassName, 'repro-high');
  assert.equal(gpu.metadata.annotations.team, 'ml');
  assert.equal(gpu.metadata.labels['cost-center'], 'research');
  assert.ok((gpu.spec.topologySpreadConstraints as unknown[]).length === 1 && gpu.spec.affinity);
  const c = gpu.spec.containers[0] as Container & {
    env: Array<{ name: string }>;
    volumeMounts: Array<{ name: string }>;
  };
  assert.ok(c.env.some((e) => e.name === 'NCCL_DEBUG') && c.volumeMounts.some((m) => m.name === 'scratch'));
  assert.deepEqual(restrictedViolations('gpu', gpu.spec), [], 'still restricted');
  const cpu = template('r-repro-cpu');
  assert.equal(cpu.spec.runtimeClassName, undefined, 'per pool');
});
