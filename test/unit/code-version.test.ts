import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, mkdirSync, appendFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { codeVersion } from '../../infra/clients';

const DIST = path.resolve(__dirname, '..', '..');
const ROOT = path.resolve(DIST, '..');

test('the code identity in cache keys comes from the content of the code that computes, with or without git', () => {
  const here = codeVersion();
  assert.match(here, /^repro@\d+\.\d+\.\d+\+code\.[0-9a-f]{16}$/);
  // An install without git: the same built code and dependencies give the same identity.
  const copy = mkdtempSync(path.join(tmpdir(), 'repro-code-'));
  try {
    copyFileSync(path.join(ROOT, 'package.json'), path.join(copy, 'package.json'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    for (const d of ['src', 'activities', 'workflows', 'infra'])
      cpSync(path.join(DIST, d), path.join(copy, 'dist', d), { recursive: true });
    const dist = path.join(copy, 'dist');
    assert.equal(codeVersion(dist), here, 'no .git, same identity');
    appendFileSync(path.join(dist, 'infra', 'cli', 'main.js'), '\n// a CLI change computes nothing\n');
    assert.equal(codeVersion(dist), here);
    appendFileSync(path.join(dist, 'src', 'landscape', 'landscape.js'), '\n// an uncommitted change to numerics\n');
    const changed = codeVersion(dist);
    assert.notEqual(changed, here, 'a change to what computes is a new identity');
    appendFileSync(path.join(dist, 'src', 'landscape', 'landscape.js'), '\n// another one\n');
    assert.notEqual(codeVersion(dist), changed, 'and every further change another (not one "-dirty" for all)');
    mkdirSync(path.join(dist, 'activities', 'extra'));
    appendFileSync(path.join(dist, 'activities', 'extra', 'new-stage.js'), 'module.exports = {};\n');
    assert.notEqual(codeVersion(dist), changed, 'a new file counts too');
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
