import { execFileSync, spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'fs';
import * as path from 'path';
import TOOLS_JSON from './tools.json';

/**
 * Server binaries of the embedded stack, pinned in tools.json (which the npm scripts read too,
 * to build them in the background on a first start). None is on npm: each is taken from PATH if
 * there, else built once with `go install` from the Go module proxy into the tools folder.
 */
export const TOOLS: Record<'temporal' | 'temporal-server' | 'temporal-sql-tool' | 'minio', ToolSpec> = TOOLS_JSON;

interface ToolSpec {
  module: string;
  version: string;
  /** Why this version. */
  why: string;
  /** About how long `go install` takes on the 2-core development machine. */
  minutes: number;
}

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
