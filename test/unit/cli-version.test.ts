/**
 * The CLI's own conventions, as `temporal`, `kubectl` and `gh` have them: `--version` answers and
 * exits 0. Runs the built CLI; nothing connects.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { codeVersion } from '../../infra/clients';

const DIST = path.resolve(__dirname, '..', '..');
const CLI = path.join(DIST, 'infra', 'cli', 'main.js');

function repro(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('`repro --version` prints the package version and the code version results record, and exits 0', () => {
  const pkg = JSON.parse(readFileSync(path.join(DIST, '..', 'package.json'), 'utf8')) as { version: string };
  const r = repro('--version');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `repro ${pkg.version} (code ${codeVersion()})\n`);
  assert.equal(r.stderr, '');
  assert.match(repro('--help').stdout, /--version\s+show the version of repro/);
});
