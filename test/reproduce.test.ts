/**
 * The main job (`repro reproduce`, what `npm start` runs) against the test stack, which it finds
 * running and reuses: Ctrl-C ends it at once with 130, its runs terminated rather than left open
 * with no worker to serve them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { Connection, Client } from '@temporalio/client';
import { CLI, confArgs, testConfig, uniqueQueues } from './helpers';

test('Ctrl-C ends the main job with 130, its run terminated and named', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'repro-main-'));
  const conf = { ...uniqueQueues(), dataDir };
  const child = spawn(process.execPath, [CLI, 'reproduce', '--experiments', 'fig6', ...confArgs(conf)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const started = new Promise<void>((resolve) =>
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (/fig6 \(1\/1\): started/.test(stderr)) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await Promise.race([started, exited]);
  assert.match(stderr, /started/, `the job never started its run: ${stderr.slice(-500)}`);
  await new Promise((r) => setTimeout(r, 3000)); // its unit is training
  const t0 = Date.now();
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr.slice(-500));
  assert.ok(Date.now() - t0 < 60_000, 'it ends at once, not after the run');
  const id = /runs (fig6-\S+) ended/.exec(stderr)?.[1];
  assert.ok(id, `the message names the run: ${stderr.slice(-300)}`);
  const config = testConfig();
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const { status } = await client.workflow.getHandle(`run/${id!.replace(/[,;]$/, '')}`).describe();
    assert.equal(status.name, 'TERMINATED');
  } finally {
    await connection.close();
  }
});
