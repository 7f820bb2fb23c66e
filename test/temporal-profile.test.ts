/**
 * The Temporal CLI's client config profile, end to end: `repro` reaches the test stack's Temporal
 * through a profile file alone (no address flag or variable), and a profile that cannot be read
 * stops the CLI with one line and exit 2 before anything connects.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { runCli, testConfig } from './helpers';

const dir = mkdtempSync(path.join(os.tmpdir(), 'repro-profile-e2e-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const stack = testConfig().temporal;
const file = path.join(dir, 'temporal.toml');
writeFileSync(
  file,
  `[profile.default]
address = "${stack.address}"
namespace = "${stack.namespace}"

[profile.nowhere]
address = "127.0.0.1:1"
`,
);

/** The test stack's environment without any Temporal address or namespace: only the profile says where. */
function profileEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, TEMPORAL_CONFIG_FILE: file };
  for (const name of ['REPRO_TEMPORAL_ADDRESS', 'TEMPORAL_ADDRESS', 'REPRO_TEMPORAL_NAMESPACE', 'TEMPORAL_NAMESPACE'])
    delete env[name];
  delete env.TEMPORAL_PROFILE;
  return { ...env, ...extra };
}

test('`repro list` reaches Temporal through the default profile alone; `repro config` says so', () => {
  const list = runCli(['list', '--json'], profileEnv());
  assert.equal(list.status, 0, list.stderr);
  assert.ok(Array.isArray(JSON.parse(list.stdout)));
  const config = runCli(['config', '--json'], profileEnv());
  assert.equal(config.status, 0, config.stderr);
  const { origins } = JSON.parse(config.stdout) as { origins: Record<string, string> };
  assert.equal(origins['temporal.address'], `Temporal profile 'default' in ${file}`);
});

test('TEMPORAL_PROFILE picks the profile; an address flag wins over it', () => {
  const nowhere = runCli(['list'], profileEnv({ TEMPORAL_PROFILE: 'nowhere' }));
  assert.equal(nowhere.status, 1);
  assert.match(nowhere.stderr, /^Error: cannot reach Temporal at 127\.0\.0\.1:1 /);
  const flag = runCli(
    ['list', '--json', '--conf', `temporal.address=${stack.address}`],
    profileEnv({ TEMPORAL_PROFILE: 'nowhere' }),
  );
  assert.equal(flag.status, 0, flag.stderr);
});

test('a missing profile or a broken file: one line naming it and the fix, exit 2', () => {
  const missing = runCli(['list'], profileEnv({ TEMPORAL_PROFILE: 'prod' }));
  assert.equal(missing.status, 2);
  assert.equal(missing.stdout, '');
  assert.match(
    missing.stderr,
    new RegExp(`^Error: TEMPORAL_PROFILE names profile 'prod', which ${file} does not have`),
  );
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);

  const broken = path.join(dir, 'broken.toml');
  writeFileSync(broken, '[profile.default\naddress = "x:1"\n');
  const bad = runCli(['list'], profileEnv({ TEMPORAL_CONFIG_FILE: broken }));
  assert.equal(bad.status, 2);
  assert.match(
    bad.stderr,
    new RegExp(`^Error: Temporal config file ${broken} \\(TEMPORAL_CONFIG_FILE\\) is not valid TOML`),
  );
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
});
