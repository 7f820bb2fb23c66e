/**
 * The CLI's own conventions, as `temporal`, `kubectl` and `gh` have them: `--version` answers and
 * exits 0, `completion` prints a shell completion script. Runs the built CLI; nothing connects.
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
  return reproIn(process.env, ...args);
}

function reproIn(env: NodeJS.ProcessEnv, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 60_000 });
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

test("`repro completion` prints a bash (or zsh) script that completes repro's commands and flags", () => {
  const bash = reproIn({ ...process.env, SHELL: '/bin/bash' }, 'completion');
  assert.equal(bash.status, 0, bash.stderr);
  assert.match(bash.stdout, /^complete .* repro$/m);
  assert.match(bash.stdout, /repro --get-yargs-completions/);
  const zsh = reproIn({ ...process.env, SHELL: '/usr/bin/zsh' }, 'completion');
  assert.equal(zsh.status, 0, zsh.stderr);
  assert.match(zsh.stdout, /^#compdef repro$/m);
  // What the script asks for: the commands, then a command's own flags.
  const commands = repro('--get-yargs-completions', 'repro', '').stdout.split('\n');
  for (const c of ['run', 'status', 'reproduce', 'completion']) assert.ok(commands.includes(c), commands.join(' '));
  const flags = repro('--get-yargs-completions', 'repro', 'run', '--').stdout.split('\n');
  for (const f of ['--preset', '--wait', '--version']) assert.ok(flags.includes(f), flags.join(' '));
});
