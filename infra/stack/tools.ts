import { execFileSync, spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'fs';
import * as path from 'path';

/**
 * Server binaries of the embedded stack, pinned. Neither is on npm: each is taken from PATH if
 * there, else built once with `go install` from the Go module proxy into the tools folder.
 */
export const TOOLS = {
  temporal: {
    module: 'github.com/temporalio/cli/cmd/temporal',
    // v1.5.x is the last line without replace directives (needed for `go install pkg@version`).
    version: 'v1.5.1',
  },
  // A self-hosted Temporal (what a cluster runs; the dev server above embeds the same code):
  // the server and its SQL schema tool, at the server version that CLI v1.5.1 embeds.
  'temporal-server': {
    module: 'go.temporal.io/server/cmd/server',
    version: 'v1.29.1',
  },
  'temporal-sql-tool': {
    module: 'go.temporal.io/server/cmd/tools/sql',
    version: 'v1.29.1',
  },
  minio: {
    module: 'github.com/minio/minio',
    // MinIO publishes no semver tags as Go modules: pin the pseudo-version of a release commit.
    version: 'v0.0.0-20260212201848-7aac2a2c5b7c',
  },
} as const;

export type ToolName = keyof typeof TOOLS;

function onPath(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/** Path of a working binary for the tool, building it if needed (minutes, once). */
export function ensureTool(name: ToolName, toolsDir: string, log: (line: string) => void = () => {}): string {
  const fromPath = onPath(name);
  if (fromPath) return fromPath;
  const local = path.join(toolsDir, 'bin', name);
  if (existsSync(local)) return local;
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) {
    throw new Error(
      `${name} is not on PATH and Go is not installed to build it; ` +
        `install Go (https://go.dev/dl) or put '${name}' on PATH`,
    );
  }
  const spec = TOOLS[name];
  mkdirSync(path.dirname(local), { recursive: true });
  log(`building ${name} ${spec.version} with go install (once; cached in ${path.dirname(local)})`);
  // go install names the binary after the package's folder (`server`, `sql`): build into a
  // folder of its own, then move it to the tool's name.
  const gobin = mkdtempSync(path.join(path.dirname(local), `.build-${name}-`));
  try {
    execFileSync(go, ['install', `${spec.module}@${spec.version}`], {
      env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    renameSync(path.join(gobin, path.basename(spec.module)), local);
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '')
      .trim()
      .split('\n')
      .slice(-3)
      .join(' | ');
    throw new Error(`building ${name} with go install ${spec.module}@${spec.version} failed: ${stderr}`);
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
  return local;
}
