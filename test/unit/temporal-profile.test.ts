/**
 * The Temporal CLI's client config profiles (`@temporalio/envconfig`'s TOML) as a layer of repro's
 * config: which profile is read, its place in the precedence, and the one-line errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { connectionOptions } from '../../infra/clients';
import { loadConfigWithOrigins } from '../../infra/load-config';
import { publicConfig } from '../../temporal.config';

const dir = mkdtempSync(path.join(os.tmpdir(), 'repro-profile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function toml(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const CA = toml('ca.pem', 'not read until connecting');
const PROFILES = toml(
  'temporal.toml',
  `[profile.default]
address = "profile-host:7233"
namespace = "ns-profile"

[profile.cloud]
address = "ns.acct.tmprl.cloud:7233"
namespace = "ns.acct"
api_key = "profile-api-key-0123456789"
[profile.cloud.tls]
server_name = "ns.acct.tmprl.cloud"
server_ca_cert_path = "${CA}"
[profile.cloud.grpc_meta]
x-tenant = "team-a"
`,
);

/** Only the variables given: nothing from the machine running the test (its HOME may hold a real profile). */
const load = (env: Record<string, string>, conf: string[] = []) =>
  loadConfigWithOrigins({ conf }, { HOME: path.join(dir, 'no-home'), ...env });

test('no profile file: defaults, nothing from a profile', () => {
  const { config, origins } = load({});
  assert.equal(config.temporal.address, '127.0.0.1:7233');
  assert.equal(origins['temporal.address'], 'default');
  assert.equal(config.temporal.grpcMeta, undefined);
});

test("the default file path (HOME/.config/temporalio/temporal.toml) and the 'default' profile", () => {
  const home = path.join(dir, 'home');
  mkdirSync(path.join(home, '.config', 'temporalio'), { recursive: true });
  writeFileSync(
    path.join(home, '.config', 'temporalio', 'temporal.toml'),
    '[profile.default]\naddress = "home:7233"\n',
  );
  const { config, origins } = load({ HOME: home });
  assert.equal(config.temporal.address, 'home:7233');
  assert.match(
    origins['temporal.address']!,
    /^Temporal profile 'default' in .*home\/\.config\/temporalio\/temporal\.toml$/,
  );
  // XDG_CONFIG_HOME wins over HOME, as in the Temporal CLI.
  assert.equal(load({ HOME: home, XDG_CONFIG_HOME: path.join(dir, 'xdg') }).config.temporal.address, '127.0.0.1:7233');
});

test('TEMPORAL_PROFILE picks a profile: address, namespace, API key, TLS and gRPC metadata', () => {
  const { config, origins } = load({ TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'cloud' });
  assert.equal(config.temporal.address, 'ns.acct.tmprl.cloud:7233');
  assert.equal(config.temporal.namespace, 'ns.acct');
  assert.equal(config.temporal.apiKey, 'profile-api-key-0123456789');
  assert.deepEqual(config.temporal.tls, {
    enabled: true,
    caPath: CA,
    certPath: '',
    keyPath: '',
    serverName: 'ns.acct.tmprl.cloud',
  });
  assert.deepEqual(config.temporal.grpcMeta, { 'x-tenant': 'team-a' });
  assert.equal(origins['temporal.tls.caPath'], `Temporal profile 'cloud' in ${PROFILES}`);
  assert.equal(origins['s3.bucket'], 'default');
  const options = connectionOptions(config);
  assert.deepEqual(options.metadata, { 'x-tenant': 'team-a' });
  assert.equal(options.apiKey, 'profile-api-key-0123456789');
  assert.equal(options.tls?.serverNameOverride, 'ns.acct.tmprl.cloud');
  // Saved configs keep the header names, never the values or the key.
  const pub = publicConfig(config);
  assert.equal(pub.temporal.apiKey, '***');
  assert.deepEqual(pub.temporal.grpcMeta, { 'x-tenant': '***' });
});

test("precedence: repro's config file, environment and flags win over the profile; the profile over defaults", () => {
  const file = path.join(dir, 'repro.json');
  writeFileSync(file, JSON.stringify({ temporal: { namespace: 'ns-file' } }));
  const env = { TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'cloud' };
  const fromFile = loadConfigWithOrigins({ configFile: file }, { HOME: dir, ...env });
  assert.equal(fromFile.config.temporal.namespace, 'ns-file');
  assert.equal(fromFile.origins['temporal.namespace'], `config file ${file}`);
  assert.equal(fromFile.config.temporal.address, 'ns.acct.tmprl.cloud:7233');

  // The Temporal CLI's own variables win over its profile, as they do in the CLI; REPRO_* over both.
  const fromEnv = load({ ...env, TEMPORAL_ADDRESS: 'env-host:7233', REPRO_TEMPORAL_API_KEY: 'env-key' });
  assert.equal(fromEnv.config.temporal.address, 'env-host:7233');
  assert.equal(fromEnv.origins['temporal.address'], 'environment variable TEMPORAL_ADDRESS');
  assert.equal(fromEnv.config.temporal.apiKey, 'env-key');
  assert.equal(fromEnv.config.temporal.tls.serverName, 'ns.acct.tmprl.cloud');

  const fromFlag = load(env, ['temporal.address=flag-host:7233']);
  assert.equal(fromFlag.config.temporal.address, 'flag-host:7233');
  assert.equal(fromFlag.origins['temporal.address'], 'flag --conf temporal.address');

  // TEMPORAL_GRPC_META_* adds or (empty) removes a header over the profile's.
  const meta = load({ ...env, TEMPORAL_GRPC_META_X_TENANT: '', TEMPORAL_GRPC_META_X_REGION: 'eu' });
  assert.deepEqual(meta.config.temporal.grpcMeta, { 'x-region': 'eu' });
});

test('a file without profiles (empty, comments only): no profile, unless TEMPORAL_PROFILE names one', () => {
  const empty = toml('empty.toml', '# nothing yet\n');
  assert.equal(load({ TEMPORAL_CONFIG_FILE: empty }).origins['temporal.address'], 'default');
  assert.throws(
    () => load({ TEMPORAL_CONFIG_FILE: empty, TEMPORAL_PROFILE: 'x' }),
    /TEMPORAL_PROFILE names profile 'x', which .*empty\.toml does not have \(it has no profiles\)/,
  );
});

test('[tls] with disabled = true leaves TLS off; a [tls] table alone turns it on', () => {
  const off = toml('off.toml', '[profile.default]\naddress = "h:1"\n[profile.default.tls]\ndisabled = true\n');
  assert.equal(load({ TEMPORAL_CONFIG_FILE: off }).config.temporal.tls.enabled, false);
  const on = toml('on.toml', '[profile.default]\naddress = "h:1"\n[profile.default.tls]\n');
  assert.equal(load({ TEMPORAL_CONFIG_FILE: on }).config.temporal.tls.enabled, true);
});

/** The one-line message of what `f` throws, with its name. */
function failure(f: () => unknown): { name: string; message: string } {
  try {
    f();
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message };
  }
  assert.fail('expected an error');
}

test('errors: one line naming the file or the profile and the fix, a ConfigError (exit 2), no secret', () => {
  const bad = toml('bad.toml', '[profile.default]\naddress = "h:1\napi_key = "secret-in-a-broken-file-0123"\n');
  let e = failure(() => load({ TEMPORAL_CONFIG_FILE: bad }));
  assert.equal(e.name, 'ConfigError');
  assert.match(
    e.message,
    new RegExp(`^Temporal config file ${bad} \\(TEMPORAL_CONFIG_FILE\\) is not valid TOML \\(.*\\); fix it there`),
  );
  assert.doesNotMatch(e.message, /secret-in-a-broken-file|\n/);

  e = failure(() => load({ TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'prod' }));
  assert.equal(e.name, 'ConfigError');
  assert.equal(
    e.message,
    `TEMPORAL_PROFILE names profile 'prod', which ${PROFILES} does not have (it has 'default', 'cloud'); ` +
      `add [profile.prod] there or set TEMPORAL_PROFILE to one it has`,
  );

  e = failure(() => load({ TEMPORAL_CONFIG_FILE: path.join(dir, 'missing.toml') }));
  assert.match(
    e.message,
    /^Temporal config file .*missing\.toml \(TEMPORAL_CONFIG_FILE\) does not exist; fix or unset TEMPORAL_CONFIG_FILE$/,
  );

  e = failure(() => load({ TEMPORAL_PROFILE: 'prod' }));
  assert.match(
    e.message,
    /^Temporal config file .*temporal\.toml \(the default path\) does not exist; create it or unset TEMPORAL_PROFILE$/,
  );

  const hv = toml('hv.toml', '[profile.default]\n[profile.default.tls]\ndisable_host_verification = true\n');
  e = failure(() => load({ TEMPORAL_CONFIG_FILE: hv }));
  assert.match(
    e.message,
    /profile 'default' in .*hv\.toml: repro cannot disable host verification.*set tls\.server_name/,
  );

  const data = toml('data.toml', '[profile.default.tls]\nclient_cert_data = "PEM"\nclient_key_data = "PEM"\n');
  e = failure(() => load({ TEMPORAL_CONFIG_FILE: data }));
  assert.match(e.message, /repro reads PEM files only, not tls\.client_cert_data; write the PEM to a file/);

  const port = toml('port.toml', '[profile.default]\naddress = "no-port"\n');
  e = failure(() => load({ TEMPORAL_CONFIG_FILE: port }));
  assert.match(e.message, /'temporal.address' must be host:port.*\(from Temporal profile 'default' in .*port\.toml\)/);

  const shape = toml('shape.toml', '[profile]\ndefault = "h:1"\n');
  e = failure(() => load({ TEMPORAL_CONFIG_FILE: shape }));
  assert.match(
    e.message,
    /shape\.toml \(TEMPORAL_CONFIG_FILE\): profile\.default must be a table \(\[profile\.default\]\)/,
  );

  const num = toml('num.toml', '[profile.default]\nnamespace = 7\n');
  e = failure(() => load({ TEMPORAL_CONFIG_FILE: num }));
  assert.match(e.message, /profile 'default' in .*num\.toml: 'namespace' must be a string/);
});

test('`repro config` shows each Temporal setting with where it came from, secrets masked', () => {
  const cli = path.resolve(__dirname, '..', '..', 'infra', 'cli', 'main.js');
  const env = { HOME: dir, TEMPORAL_CONFIG_FILE: PROFILES, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'ns-env' };
  const r = spawnSync(process.execPath, [cli, 'config', '--conf', 'temporal.tls.serverName=flag.example'], {
    env,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const line = (key: string): string => r.stdout.split('\n').find((l) => l.startsWith(`${key} `)) ?? '';
  assert.match(
    line('temporal.address'),
    /"ns\.acct\.tmprl\.cloud:7233" +\(Temporal profile 'cloud' in .*temporal\.toml\)$/,
  );
  assert.match(line('temporal.namespace'), /"ns-env" +\(environment variable TEMPORAL_NAMESPACE\)$/);
  assert.match(line('temporal.tls.serverName'), /"flag\.example" +\(flag --conf temporal\.tls\.serverName\)$/);
  assert.match(line('temporal.apiKey'), /"\*\*\*" +\(Temporal profile 'cloud'/);
  assert.match(line('temporal.grpcMeta'), /\{"x-tenant":"\*\*\*"\}/);
  assert.match(line('temporal.uiPort'), /8233 +\(default\)$/);
  assert.doesNotMatch(r.stdout, /profile-api-key|team-a/);
});
