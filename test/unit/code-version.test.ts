import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { codeVersion, torchAddonBuild } from '../../infra/clients';

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
    // An install carries its torch addon's build record (the image copies .tools/torch).
    const addonInfo = path.join(ROOT, '.tools', 'torch', 'build-info.json');
    if (existsSync(addonInfo)) {
      mkdirSync(path.join(copy, '.tools', 'torch'), { recursive: true });
      copyFileSync(addonInfo, path.join(copy, '.tools', 'torch', 'build-info.json'));
    }
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
    const withStage = codeVersion(dist);
    assert.notEqual(withStage, changed, 'a new file counts too');
    // The torch addon's native code computes too: another build of it is another identity.
    mkdirSync(path.join(copy, '.tools', 'torch'), { recursive: true });
    writeFileSync(
      path.join(copy, '.tools', 'torch', 'build-info.json'),
      JSON.stringify({ libtorch: 'test', build: '0123456789abcdef' }),
    );
    assert.equal(torchAddonBuild(copy), '0123456789abcdef');
    assert.notEqual(codeVersion(dist), withStage, 'a rebuilt addon is a new identity');
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
