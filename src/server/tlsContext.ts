/**
 * The node side of the ssl.* keys: key and trust stores opened (PEM, PKCS12) into a TLS secure
 * context, ZooKeeper's protocol and cipher choices turned into OpenSSL's. A store that cannot be
 * opened stops the server with a ConfigError naming its key, as ZooKeeper's X509Util does.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import tls from 'node:tls';
import type Forge from 'node-forge';
import { ConfigError } from './config.js';
import type { KeyStoreRef, SslOptions } from './options.js';

/** X509Util's default cipher suites on Java 9+: GCM first, then CBC. */
const ZOOKEEPER_DEFAULT_CIPHERS = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
  'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
];

const KEY_EXCHANGES: ReadonlyMap<string, string> = new Map([
  ['RSA', ''],
  ['ECDHE_RSA', 'ECDHE-RSA-'],
  ['ECDHE_ECDSA', 'ECDHE-ECDSA-'],
  ['DHE_RSA', 'DHE-RSA-'],
  ['DHE_DSS', 'DHE-DSS-'],
]);

/** A Java (IANA) cipher suite name as OpenSSL spells it; undefined when it has no OpenSSL twin. */
export function openSslCipherName(java: string): string | undefined {
  if (/^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256|AES_128_CCM(_8)?_SHA256)$/.test(java)) return java; // TLS 1.3: same names
  const m = /^(?:TLS|SSL)_([A-Z0-9_]+?)_WITH_([A-Z0-9_]+)$/.exec(java);
  const kx = m === null ? undefined : KEY_EXCHANGES.get(m[1]!);
  if (m === null || kx === undefined) return undefined;
  const c = m[2]!;
  const gcm = /^AES_(128|256)_GCM_(SHA256|SHA384)$/.exec(c);
  if (gcm) return `${kx}AES${gcm[1]}-GCM-${gcm[2]}`;
  const cbc = /^AES_(128|256)_CBC_(SHA|SHA256|SHA384)$/.exec(c);
  if (cbc) return `${kx}AES${cbc[1]}-${cbc[2]}`;
  if (c === 'CHACHA20_POLY1305_SHA256' && kx !== '') return `${kx}CHACHA20-POLY1305`;
  return undefined;
}

const VERSION_ORDER: readonly tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

function versionRange(prefix: string, protocols: readonly string[]): { minVersion: tls.SecureVersion; maxVersion: tls.SecureVersion } {
  // "TLS" is Java's newest-available protocol.
  const idx = protocols.map((p) => (p === 'TLS' ? VERSION_ORDER.length - 1 : VERSION_ORDER.indexOf(p as tls.SecureVersion))).filter((i) => i >= 0);
  if (idx.length === 0) throw new ConfigError(`${prefix}.enabledProtocols`, `none of ${protocols.join(',')} is a TLS version`);
  return { minVersion: VERSION_ORDER[Math.min(...idx)]!, maxVersion: VERSION_ORDER[Math.max(...idx)]! };
}

function readStore(ref: KeyStoreRef): Buffer {
  try {
    return fs.readFileSync(ref.location);
  } catch (e) {
    throw new ConfigError(`${ref.key}.location`, `cannot read ${ref.location}: ${(e as Error).message}`);
  }
}

function unsupported(ref: KeyStoreRef): never {
  throw new ConfigError(
    `${ref.key}.type`,
    `${ref.type} stores are not read by tszk (${ref.location}); convert it to PKCS12 (keytool -importkeystore -deststoretype PKCS12) or PEM`,
  );
}

/** node-forge, loaded only when a PKCS12 trust store is read (it costs tens of ms at start-up otherwise). */
function nodeForge(): typeof Forge {
  return createRequire(import.meta.url)('node-forge') as typeof Forge;
}

/** PKCS#12 certBag (RFC 7292). */
const PKCS12_CERT_BAG = '1.2.840.113549.1.12.10.1.3';

/** The certificates of a PKCS12 trust store, as PEM (Node's pfx option wants a key beside them). */
function pkcs12Certificates(ref: KeyStoreRef, bytes: Buffer): string[] {
  const forge = nodeForge();
  let p12: Forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(bytes.toString('binary')), ref.password);
  } catch (e) {
    const msg = (e as Error).message;
    throw new ConfigError(/password|MAC/i.test(msg) ? `${ref.key}.password` : `${ref.key}.location`, `cannot open ${ref.location}: ${msg}`);
  }
  const bags = p12.getBags({ bagType: PKCS12_CERT_BAG })[PKCS12_CERT_BAG] ?? [];
  const out: string[] = [];
  for (const b of bags) {
    if (b.cert) out.push(forge.pki.certificateToPem(b.cert));
    else if (b.asn1) out.push(new crypto.X509Certificate(Buffer.from(forge.asn1.toDer(b.asn1).getBytes(), 'binary')).toString());
  }
  if (out.length === 0) throw new ConfigError(`${ref.key}.location`, `${ref.location} holds no certificate`);
  return out;
}

/** What a key store gives a secure context: a PEM file with key and chain (ZooKeeper's PEM keystore) or PKCS12. */
export function keyStoreOptions(ref: KeyStoreRef): { key?: string; cert?: string; pfx?: Buffer; passphrase: string } {
  const bytes = readStore(ref);
  if (ref.type === 'PKCS12') return { pfx: bytes, passphrase: ref.password };
  if (ref.type !== 'PEM') return unsupported(ref);
  const text = bytes.toString('utf8');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) throw new ConfigError(`${ref.key}.location`, `${ref.location} holds no PEM private key`);
  if (!/-----BEGIN CERTIFICATE-----/.test(text)) throw new ConfigError(`${ref.key}.location`, `${ref.location} holds no PEM certificate`);
  try {
    crypto.createPrivateKey({ key: text, passphrase: ref.password });
  } catch (e) {
    throw new ConfigError(`${ref.key}.password`, `cannot open the private key in ${ref.location}: ${(e as Error).message}`);
  }
  return { key: text, cert: text, passphrase: ref.password };
}

export function trustStoreCa(ref: KeyStoreRef): string[] | string {
  const bytes = readStore(ref);
  if (ref.type === 'PKCS12') return pkcs12Certificates(ref, bytes);
  if (ref.type !== 'PEM') return unsupported(ref);
  const text = bytes.toString('utf8');
  if (!/-----BEGIN CERTIFICATE-----/.test(text)) throw new ConfigError(`${ref.key}.location`, `${ref.location} holds no PEM certificate`);
  return text;
}

/** The CRLs of ssl.crl.location as PEM (OpenSSL takes them so), from a PEM or DER file; each is checked to parse. */
export function readCrls(prefix: string, file: string): string {
  const key = `${prefix}.crl.location`;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new ConfigError(key, `cannot read ${file}: ${(e as Error).message}`);
  }
  const text = bytes.toString('latin1');
  const pem = text.includes('-----BEGIN X509 CRL-----')
    ? text
    : `-----BEGIN X509 CRL-----\n${bytes.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n`;
  try {
    tls.createSecureContext({ crl: pem });
  } catch (e) {
    throw new ConfigError(key, `${file} holds no CRL OpenSSL reads: ${(e as Error).message}`);
  }
  return pem;
}

export interface ServerTls {
  /** Checked by building a context once; a tls.Server builds its own from them. */
  secureOptions: tls.SecureContextOptions;
  requestCert: boolean;
  /** need: a client without a trusted certificate fails the handshake. */
  rejectUnauthorized: boolean;
}

/** Opens the stores and builds the secure context of a client port or the quorum; throws ConfigError naming the key at fault. */
export function serverTls(ssl: SslOptions): ServerTls {
  const ciphers = (ssl.ciphersuites ?? ZOOKEEPER_DEFAULT_CIPHERS).map((c) => {
    const name = openSslCipherName(c);
    if (name === undefined) throw new ConfigError(`${ssl.prefix}.ciphersuites`, `'${c}' is not a cipher suite tszk knows`);
    return name;
  });
  const opts: tls.SecureContextOptions = { ...versionRange(ssl.prefix, ssl.enabledProtocols), ciphers: ciphers.join(':') };
  if (ssl.keyStore !== undefined) Object.assign(opts, keyStoreOptions(ssl.keyStore));
  if (ssl.trustStore !== undefined) opts.ca = trustStoreCa(ssl.trustStore);
  // With a CRL, OpenSSL checks every certificate of a peer's chain (Node sets CRL_CHECK_ALL): one whose issuer has no CRL there fails too, as with Java's PKIX.
  if (ssl.crl !== undefined) opts.crl = readCrls(ssl.prefix, ssl.crl);
  try {
    tls.createSecureContext(opts);
  } catch (e) {
    const msg = (e as Error).message;
    if (ssl.keyStore !== undefined && /mac verify|bad decrypt|password|PKCS12|pfx/i.test(msg)) {
      throw new ConfigError(`${ssl.keyStore.key}.password`, `cannot open ${ssl.keyStore.location}: ${msg}`);
    }
    throw new ConfigError(ssl.keyStore?.key ?? ssl.prefix, `cannot build the TLS context: ${msg}`);
  }
  return { secureOptions: opts, requestCert: ssl.clientAuth !== 'none', rejectUnauthorized: ssl.clientAuth === 'need' };
}
