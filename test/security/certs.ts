/**
 * Certificates for the security suites, made at run time with openssl in a temp dir (never
 * committed): two CAs, a server certificate for 127.0.0.1/localhost, client certificates (one
 * with a subject full of characters X500Principal escapes, one expired), and the stores ZooKeeper reads
 * (PEM key store = key + certificate in one file, PKCS12 key and trust stores).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const STORE_PASSWORD = 'testpass';

export interface Identity {
  key: string;
  cert: string;
  /** Key and certificate in one file: ZooKeeper's PEM key store. */
  pem: string;
  p12: string;
}

export interface TestCerts {
  dir: string;
  /** The CA every server and client trusts. */
  ca: string;
  caP12: string;
  server: Identity;
  /** A client whose subject needs RFC 2253 escaping. */
  alice: Identity;
  bob: Identity;
  /** Signed by another CA. */
  mallory: Identity;
  /** Signed by the CA, expired yesterday. */
  expired: Identity;
  cleanup(): void;
}

export function opensslMissing(): string | undefined {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (r.status !== 0) return 'openssl not runnable (apt-get install openssl)';
  return spawnSync('keytool', ['-help'], { encoding: 'utf8' }).error === undefined ? undefined : 'keytool not runnable (a JDK)';
}

/** The subject alice's certificate carries (openssl -subj form, multi-valued RDN with +). */
export const ALICE_SUBJECT = '/DC=org/DC=example/O=Acme, Inc./OU=Eng+OU=Ops/CN=alice #1; <x> "q" é/emailAddress=alice@example.org';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A key and a certificate signed by `signer` (a CA made by makeCerts: 'ca' or 'ca2') in `dir`,
 * with the stores ZooKeeper reads; `ext` adds X509v3 extension lines (subjectAltName=...).
 */
export function issue(dir: string, name: string, subject: string, signer: string, ext: string[] = [], days = '2'): Identity {
  const f = (n: string): string => path.join(dir, n);
  const key = f(`${name}.key`);
  const cert = f(`${name}.crt`);
  openssl(dir, 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key);
  openssl(dir, 'req', '-new', '-key', key, '-out', f(`${name}.csr`), '-utf8', '-multivalue-rdn', '-subj', subject);
  fs.writeFileSync(f(`${name}.ext`), ['basicConstraints=CA:FALSE', ...ext].join('\n') + '\n');
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    f(`${name}.csr`),
    '-CA',
    f(`${signer}.pem`),
    '-CAkey',
    f(`${signer}.key`),
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    days,
    '-extfile',
    f(`${name}.ext`),
  );
  const pem = f(`${name}-keystore.pem`);
  fs.writeFileSync(pem, fs.readFileSync(key, 'utf8') + fs.readFileSync(cert, 'utf8'));
  const p12 = f(`${name}.p12`);
  openssl(dir, 'pkcs12', '-export', '-in', cert, '-inkey', key, '-out', p12, '-passout', `pass:${STORE_PASSWORD}`, '-name', name);
  return { key, cert, pem, p12 };
}

/** Revokes `revoked` (certificates of makeCerts' CA) and writes the CA's CRL; returns its path (PEM). */
export function caCrl(c: TestCerts, revoked: Identity[]): string {
  const f = (n: string): string => path.join(c.dir, n);
  fs.writeFileSync(f('index.txt'), '');
  fs.writeFileSync(f('crlnumber'), '01\n');
  const cnf = f('ca.cnf');
  fs.writeFileSync(
    cnf,
    [
      '[ca]',
      'default_ca = tszk_test',
      '[tszk_test]',
      `database = ${f('index.txt')}`,
      `crlnumber = ${f('crlnumber')}`,
      `certificate = ${c.ca}`,
      `private_key = ${f('ca.key')}`,
      'default_md = sha256',
      'default_crl_days = 2',
    ].join('\n') + '\n',
  );
  for (const r of revoked) openssl(c.dir, 'ca', '-config', cnf, '-revoke', r.cert);
  const crl = f('ca.crl');
  openssl(c.dir, 'ca', '-config', cnf, '-gencrl', '-out', crl);
  return crl;
}

export function makeCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-certs-'));
  const f = (n: string): string => path.join(dir, n);
  const ca = (name: string): void => {
    openssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.pem`),
      '-days',
      '2',
      '-subj',
      `/CN=tszk test ${name}`,
    );
  };
  ca('ca');
  ca('ca2');
  const san = 'subjectAltName=DNS:localhost,IP:127.0.0.1';
  const identity = (name: string, subject: string, signer: string, days = '2'): Identity => issue(dir, name, subject, signer, [san], days);
  const server = identity('server', '/CN=localhost', 'ca');
  const alice = identity('alice', ALICE_SUBJECT, 'ca');
  const bob = identity('bob', '/O=tszk/CN=bob', 'ca');
  const mallory = identity('mallory', '/CN=mallory', 'ca2');
  // -days -1: notAfter a day before now.
  const expired = identity('expired', '/O=tszk/CN=expired', 'ca', '-1');
  const caP12 = f('truststore.p12');
  // keytool's trust store: Java trusts only certificates marked as trusted, which openssl -nokeys does not do.
  execFileSync(
    'keytool',
    ['-importcert', '-noprompt', '-alias', 'ca', '-file', f('ca.pem'), '-keystore', caP12, '-storetype', 'PKCS12', '-storepass', STORE_PASSWORD],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  return { dir, ca: f('ca.pem'), caP12, server, alice, bob, mallory, expired, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** zoo.cfg lines for a TLS client port, as ZooKeeper's admin guide gives them. */
export function tlsServerCfg(c: TestCerts, securePort: number, extra: Record<string, string | number> = {}): Record<string, string | number> {
  return {
    secureClientPort: securePort,
    secureClientPortAddress: '127.0.0.1',
    serverCnxnFactory: 'org.apache.zookeeper.server.NettyServerCnxnFactory',
    'authProvider.x509': 'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
    'ssl.keyStore.location': c.server.pem,
    'ssl.trustStore.location': c.ca,
    ...extra,
  };
}
