/** Certificates for TLS tests, made by openssl at test time: a CA, a server and a client it signed, a stranger. */
import { execFileSync } from 'child_process';
import { writeFileSync } from 'fs';
import * as path from 'path';

/**
 * Writes into `dir`: `ca.pem`/`ca.key`, `server.pem`/`.key` (for `serverNames`, subjectAltName
 * syntax), `client.pem`/`.key` (client authentication) and a self-signed `stranger.pem`/`.key`.
 */
export function makeCertificates(dir: string, serverNames = 'DNS:localhost,IP:127.0.0.1'): void {
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  const selfSigned = (name: string, subject: string): void =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      subject,
    );
  selfSigned('ca', '/CN=repro test CA');
  for (const [name, ext] of [
    ['server', `subjectAltName=${serverNames}\nextendedKeyUsage=serverAuth\n`],
    ['client', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    writeFileSync(path.join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\n${ext}`);
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=repro-${name}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
  selfSigned('stranger', '/CN=stranger');
}
