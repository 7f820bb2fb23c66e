import { execFileSync, spawnSync } from 'child_process';
import { existsSync, mkdirSync } from 'fs';
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
    throw new Error(`${name} is not on PATH and Go is not installed to build it; install Go (https://go.dev/dl) or put '${name}' on PATH`);
  }
  const spec = TOOLS[name];
  mkdirSync(path.dirname(local), { recursive: true });
  log(`building ${name} ${spec.version} with go install (once; cached in ${path.dirname(local)})`);
  try {
    execFileSync(go, ['install', `${spec.module}@${spec.version}`], {
      env: { ...process.env, GOBIN: path.dirname(local), CGO_ENABLED: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim().split('\n').slice(-3).join(' | ');
    throw new Error(`building ${name} with go install ${spec.module}@${spec.version} failed: ${stderr}`);
  }
  return local;
}
