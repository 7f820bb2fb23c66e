import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, resolveConfig } from '../../temporal.config';
import { webUiBase, workflowLink } from '../../infra/cli/web-ui';

const config = (flags: Record<string, string> = {}, env: Record<string, string> = {}) => resolveConfig({ flags, env });

test("the Web UI link: the dev server's on a loopback address, none for another cluster unless temporal.webUi", () => {
  assert.equal(workflowLink(config(), 'run/fig7-a'), 'http://127.0.0.1:8233/namespaces/default/workflows/run%2Ffig7-a');
  assert.equal(
    webUiBase(config({ 'temporal.address': 'localhost:27233', 'temporal.uiPort': '28233' })),
    'http://localhost:28233',
  );
  assert.equal(webUiBase(config({ 'temporal.address': '[::1]:7233' })), 'http://[::1]:8233');
  // A cluster elsewhere: its UI's address is not derivable, so no link rather than a wrong one.
  for (const address of ['10.0.0.5:7233', 'temporal-frontend.temporal.svc:7233', 'ns.acct.tmprl.cloud:7233'])
    assert.equal(workflowLink(config({ 'temporal.address': address }), 'run/x'), undefined, address);
  const cloud = config(
    { 'temporal.address': 'ns.acct.tmprl.cloud:7233', 'temporal.namespace': 'ns.acct' },
    { REPRO_TEMPORAL_WEB_UI: 'https://cloud.temporal.io/' },
  );
  assert.equal(workflowLink(cloud, 'run/x'), 'https://cloud.temporal.io/namespaces/ns.acct/workflows/run%2Fx');
  // A configured UI wins on loopback too (a port-forwarded cluster).
  assert.equal(webUiBase(config({ 'temporal.webUi': 'http://127.0.0.1:8080/ui' })), 'http://127.0.0.1:8080/ui');
});

test('temporal.webUi must be an http(s) URL', () => {
  for (const bad of ['cloud.temporal.io', 'ftp://x.example', 'http//x'])
    assert.throws(
      () => config({ 'temporal.webUi': bad }),
      (e: Error) =>
        e instanceof ConfigError &&
        /'temporal.webUi' must be an http:\/\/ or https:\/\/ URL \(or empty\)/.test(e.message),
      bad,
    );
});
