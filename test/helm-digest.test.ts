/**
 * The chart's images pinned by digest (values `image.digest`, `gpuImage.digest`): each pod that
 * runs one of repro's images names it `repository@digest` when its digest is set, `repository:tag`
 * when not, independently for the CPU and the GPU image; values.schema.json refuses anything but
 * `sha256:` and 64 lowercase hex digits. infra/image/print-digest.sh's values block, from the digest
 * a push wrote, is a values file the chart takes as is.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { CHART, ensureHelm, HELM, render, ROOT, VALIDATE, type Doc } from './helm-render';

before(ensureHelm);

const CPU_DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const GPU_DIGEST = `sha256:${'fedcba9876543210'.repeat(4)}`;

/** The image of every container of every pod template, by `Kind/name container`. */
function images(docs: Doc[]): Map<string, string> {
  type Pod = {
    containers: Array<{ name: string; image: string }>;
    initContainers?: Array<{ name: string; image: string }>;
  };
  const out = new Map<string, string>();
  for (const d of docs) {
    const pod = (d.spec as { template?: { spec?: Pod } } | undefined)?.template?.spec;
    for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])])
      out.set(`${d.kind}/${d.metadata.name} ${c.name}`, c.image);
  }
  return out;
}

/** The images of the pods that run repro's own images (the chart's other Job runs Temporal's tools). */
function reproImages(sets: string[]): Map<string, string> {
  const { docs, yaml } = render([], sets);
  const r = spawnSync(VALIDATE, [], { input: yaml, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return new Map([...images(docs)].filter(([, image]) => image.startsWith('ghcr.io/your-org/repro')));
}

test('by tag unless a digest is given: repository:tag for both images by default', () => {
  assert.deepEqual(
    reproImages([]),
    new Map([
      ['Deployment/r-repro-cpu worker', 'ghcr.io/your-org/repro:0.1.0'],
      ['Deployment/r-repro-gpu worker', 'ghcr.io/your-org/repro-gpu:0.1.0'],
    ]),
  );
});

test('a digest pins its own image, repository@digest in every pod that runs it, the other image unchanged', () => {
  assert.deepEqual(
    reproImages([`image.digest=${CPU_DIGEST}`]),
    new Map([
      ['Deployment/r-repro-cpu worker', `ghcr.io/your-org/repro@${CPU_DIGEST}`],
      ['Deployment/r-repro-gpu worker', 'ghcr.io/your-org/repro-gpu:0.1.0'],
    ]),
  );
  assert.deepEqual(
    reproImages([`image.digest=${CPU_DIGEST}`, `gpuImage.digest=${GPU_DIGEST}`, 'image.tag=0.2.0']),
    new Map([
      ['Deployment/r-repro-cpu worker', `ghcr.io/your-org/repro@${CPU_DIGEST}`],
      ['Deployment/r-repro-gpu worker', `ghcr.io/your-org/repro-gpu@${GPU_DIGEST}`],
    ]),
    'the digest wins over the tag',
  );
});

test('values.schema.json: a digest is sha256: and 64 lowercase hex digits, or empty', () => {
  for (const [set, expected] of [
    ['image.digest=sha256:abc', /\/image\/digest': 'sha256:abc' does not match pattern/],
    ['gpuImage.digest=latest', /\/gpuImage\/digest': 'latest' does not match pattern/],
    [`image.digest=${CPU_DIGEST.toUpperCase()}`, /\/image\/digest': .* does not match pattern/],
    [`image.digest=${CPU_DIGEST.slice(7)}`, /\/image\/digest': .* does not match pattern/],
  ] as const) {
    const r = spawnSync(HELM, ['template', 'r', CHART, '--set', set], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, `${set} renders`);
    assert.match(r.stderr, expected, set);
  }
  const empty = spawnSync(HELM, ['template', 'r', CHART, '--set', 'image.digest='], { encoding: 'utf8' });
  assert.equal(empty.status, 0, empty.stderr);
});

test("print-digest.sh turns a push's digest file into values the chart pins the image with", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'repro-digest-'));
  try {
    // As `buildah push --digestfile` writes it: the digest, no newline.
    writeFileSync(path.join(dir, 'digest'), GPU_DIGEST);
    const values = execFileSync(
      'bash',
      [
        path.join(ROOT, 'infra', 'image', 'print-digest.sh'),
        '--gpu',
        'registry.example.com:5000/team/repro-gpu:0.2.0',
        path.join(dir, 'digest'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(
      values,
      `gpuImage:\n  repository: registry.example.com:5000/team/repro-gpu\n  tag: "0.2.0"\n  digest: "${GPU_DIGEST}"\n`,
    );
    writeFileSync(path.join(dir, 'digests.yaml'), values);
    const yaml = execFileSync(HELM, ['template', 'r', CHART, '-f', path.join(dir, 'digests.yaml')], {
      encoding: 'utf8',
    });
    assert.match(yaml, new RegExp(`image: "registry\\.example\\.com:5000/team/repro-gpu@${GPU_DIGEST}"`));
    assert.match(yaml, /image: "ghcr\.io\/your-org\/repro:0\.1\.0"/, 'the CPU image as it was');
    writeFileSync(path.join(dir, 'digest'), 'sha256:abc\n');
    const bad = spawnSync(
      'bash',
      [path.join(ROOT, 'infra', 'image', 'print-digest.sh'), 'r/x:1', path.join(dir, 'digest')],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /'sha256:abc' is not a sha256 digest/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
