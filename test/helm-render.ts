/**
 * Rendering the Helm chart (infra/helm/repro) offline for the chart's tests: `helm template` with
 * values files and `--set`s, decoded to JSON by the validator's own YAML parser (sigs.k8s.io/yaml).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CHART = path.join(ROOT, 'infra', 'helm', 'repro');
export const HELM = path.join(ROOT, '.tools', 'bin', 'helm');
export const VALIDATE = path.join(ROOT, '.tools', 'bin', 'repro-kvalidate');

/** Builds helm and the validator into .tools/bin once (a test file's `before`). */
export function ensureHelm(): void {
  execFileSync('bash', [path.join(ROOT, 'infra', 'scripts', 'ensure-helm.sh')], {
    stdio: 'inherit',
    timeout: 1_500_000,
  });
}

export type Doc = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
};

/** A cluster with KEDA installed (helm template knows no cluster: its APIs are given). */
export const KEDA = ['keda.sh/v1alpha1/ScaledObject', 'keda.sh/v1alpha1/TriggerAuthentication'];

export function render(
  values: string[],
  sets: string[] = [],
  apiVersions: string[] = KEDA,
): { yaml: string; docs: Doc[] } {
  const args = [
    'template',
    'r',
    CHART,
    ...values.flatMap((v) => ['-f', path.join(CHART, v)]),
    ...sets.flatMap((s) => ['--set', s]),
    ...apiVersions.flatMap((a) => ['--api-versions', a]),
  ];
  const yaml = execFileSync(HELM, args, { encoding: 'utf8' });
  // YAML to JSON by the validator's own parser (sigs.k8s.io/yaml): no YAML library is added here.
  const r = spawnSync(VALIDATE, ['--to-json'], { input: yaml, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { yaml, docs: JSON.parse(r.stdout) as Doc[] };
}
