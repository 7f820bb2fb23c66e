/**
 * `npm test`: start a real Temporal dev server and a real MinIO server on test ports with a
 * throw-away data folder (building the binaries once if missing), run every compiled test file
 * with node's test runner against them, then stop the servers. Tests find the servers through
 * the same REPRO_* environment variables a user would set. Arguments filter test files by path.
 */
import { spawnSync } from 'child_process';
import { readdirSync, statSync } from 'fs';
import * as path from 'path';
import { startEphemeralStack } from '../infra/stack/ephemeral-stack';

function testFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return testFiles(full);
      return name.endsWith('.test.js') ? [full] : [];
    })
    .sort();
}

async function main(): Promise<number> {
  const filter = process.argv.slice(2);
  const files = testFiles(__dirname).filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)));
  const stack = await startEphemeralStack(17233, 'repro-test', (line) => process.stderr.write(line + '\n'));
  try {
    // One file at a time: the fault tests time worker processes and must not share the 2 cores.
    // A test that hangs (activities retry without limit) fails after 15 minutes instead of holding CI.
    const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=900000', ...files], {
      env: stack.env,
      stdio: 'inherit',
    });
    return r.status ?? 1;
  } finally {
    await stack.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`Error: ${err.message}\n`);
    process.exit(1);
  },
);
