/**
 * `repro report` writes only inside its folder: a planted index entry whose run id resolves
 * outside it (`..`) is refused in one line before anything is written, and the path check
 * refuses what AWS S3 would store as a key (`runs/x/artifacts/../../../../home/...`) but MinIO,
 * the test server, refuses itself (XMinioInvalidResourceName for any `..` or `.` component).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { makeObjectStore } from '../infra/clients';
import { pathInside } from '../infra/cli/paths-inside';
import { runCli, testConfig } from './helpers';

test('report --index refuses a planted index entry that points outside the folder, writing nothing', async () => {
  const store = makeObjectStore(testConfig());
  // Legal on MinIO: `...json` is no `..` component; the run id inside it is.
  const planted = 'index/runs/...json';
  const entry = { runId: '..', experiment: 'fig7', preset: 'quick', finishedAt: '2026-01-01T00:00:00Z', claims: [] };
  await store.put(planted, Buffer.from(JSON.stringify(entry)), 'application/json');
  const home = mkdtempSync(path.join(os.tmpdir(), 'report-home-'));
  const out = path.join(home, 'reports');
  try {
    const r = runCli(['report', '--index', '--out', out]);
    assert.equal(r.status, 1, r.stdout);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^Error: refusing to write "\\.\\." \\(from run id '\\.\\.' of index entry index/runs/\\.\\.\\.json\\): ` +
          'it resolves outside .*reports; nothing was written',
      ),
    );
    assert.deepEqual(readdirSync(home), [], 'nothing written beside the folder, and not the folder either');
    assert.ok(!existsSync(path.join(home, 'result.json')));
  } finally {
    await store.delete(planted);
  }
});

test('the path check refuses keys and run ids that resolve outside the folder, and keeps the rest', () => {
  const folder = path.join(os.tmpdir(), 'out');
  for (const rel of ['../../../../home/u/.bashrc', '..', '.', '', 'a/../../b', '/etc/passwd', 'x\0y'])
    assert.throws(() => pathInside(folder, rel, 'runs/x/artifacts/...'), /refusing to write .* resolves outside/, rel);
  assert.equal(pathInside(folder, 'report.html', 'k'), path.join(folder, 'report.html'));
  assert.equal(pathInside(folder, 'figs/a..b.svg', 'k'), path.join(folder, 'figs', 'a..b.svg'));
  assert.equal(pathInside(folder, '..hidden', 'k'), path.join(folder, '..hidden'));
});
