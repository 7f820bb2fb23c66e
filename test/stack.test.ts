/** `repro up` / `repro down` on their own ports and data folder: idempotent start, clean stop. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { portOpen } from '../infra/stack/processes';
import { runCli } from './helpers';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'repro-stack-'));
const env = {
  ...process.env,
  REPRO_TEMPORAL_ADDRESS: '127.0.0.1:27233',
  REPRO_TEMPORAL_UI_PORT: '28233',
  REPRO_S3_ENDPOINT: 'http://127.0.0.1:29000',
  REPRO_S3_CONSOLE_PORT: '0',
  REPRO_DATA_DIR: dataDir,
};
after(() => {
  runCli(['down'], env);
  rmSync(dataDir, { recursive: true, force: true });
});

test('up starts both servers, a second up finds them running, down stops them', async () => {
  const first = runCli(['up', '--json'], env);
  assert.equal(first.status, 0, first.stderr);
  const a = JSON.parse(first.stdout);
  assert.deepEqual(a.started.sort(), ['s3', 'temporal']);
  assert.equal(a.webUi, 'http://127.0.0.1:28233');
  assert.ok(await portOpen('127.0.0.1', 28233), 'Web UI answers');

  const second = JSON.parse(runCli(['up', '--json'], env).stdout);
  assert.deepEqual(second.started, []);
  assert.deepEqual(second.alreadyRunning.sort(), ['s3', 'temporal']);

  const down = runCli(['down'], env);
  assert.equal(down.status, 0);
  assert.match(down.stdout, /stopped: temporal, s3/);
  assert.equal(await portOpen('127.0.0.1', 27233), false);
  assert.equal(await portOpen('127.0.0.1', 29000), false);
  assert.match(runCli(['down'], env).stdout, /nothing was running/);
});

test('up refuses a non-loopback Temporal address with the fix', () => {
  const r = runCli(['up', '--conf', 'temporal.address=temporal.example.com:7233'], env);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^Error: temporal.address is temporal.example.com:7233: `repro up` only starts servers on this machine/,
  );
});
