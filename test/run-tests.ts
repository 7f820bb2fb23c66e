/**
 * `npm test`: start a real Temporal dev server and a real MinIO server on test ports with a
 * throw-away data folder (building the binaries once if missing), run every compiled test file
 * with node's test runner against them, then stop the servers. Tests find the servers through
 * the same REPRO_* environment variables a user would set.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig } from '../infra/load-config';
import { stackDown, stackUp } from '../infra/stack/embedded-stack';

const TEST_ENV: Record<string, string> = {
  REPRO_TEMPORAL_ADDRESS: '127.0.0.1:17233',
  REPRO_TEMPORAL_UI_PORT: '18233',
  REPRO_S3_ENDPOINT: 'http://127.0.0.1:19000',
  REPRO_S3_CONSOLE_PORT: '0',
  REPRO_S3_BUCKET: 'repro-test',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return testFiles(full);
    return name.endsWith('.test.js') ? [full] : [];
  }).sort();
}

async function main(): Promise<number> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'repro-test-'));
  const env = { ...process.env, ...TEST_ENV, REPRO_DATA_DIR: dataDir };
  const config = loadConfig({}, env);
  const filter = process.argv.slice(2);
  const files = testFiles(__dirname).filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)));
  process.stderr.write(`test stack: Temporal ${config.temporal.address}, S3 ${config.s3.endpoint}, data ${dataDir}\n`);
  await stackUp(config, (line) => process.stderr.write(line + '\n'));
  try {
    // One file at a time: the fault tests time worker processes and must not share the 2 cores.
    const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { env, stdio: 'inherit' });
    return r.status ?? 1;
  } finally {
    await stackDown(config);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`Error: ${err.message}\n`);
  process.exit(1);
});
