/**
 * The security keys of zoo.cfg (or -D), as ZooKeeper 3.8 reads them: ssl.* for the client ports
 * (ClientX509Util), ssl.quorum.* with sslQuorum/portUnification between peers (QuorumX509Util),
 * quorum.auth.* (quorum SASL), authProvider.N, ssl.authProvider, X509AuthenticationProvider.superUser.
 * Values are checked here and name their key; the key stores themselves are opened by the node
 * I/O layer (tlsContext.ts) when the port is bound.
 */
import fs from 'node:fs';
import path from 'node:path';
import { digestCredentials, digestUsers, JaasError, parseJaas, type JaasModule } from './jaas.js';
import {
  defaultSslOptions,
  type KeyStoreRef,
  type KeyStoreType,
  type QuorumSaslOptions,
  type QuorumTlsOptions,
  type ServerOptions,
  type SslOptions,
  type SslPrefix,
} from './options.js';

type Take = (key: string) => string | undefined;
type Fail = (key: string, problem: string) => never;

const STORE_TYPES: readonly KeyStoreType[] = ['PEM', 'PKCS12', 'JKS', 'BCFKS'];
/** KeyStoreFileType.fromFilename: the extensions ZooKeeper recognises. */
const STORE_EXTENSIONS: ReadonlyMap<string, KeyStoreType> = new Map([
  ['.pem', 'PEM'],
  ['.p12', 'PKCS12'],
  ['.pfx', 'PKCS12'],
  ['.jks', 'JKS'],
  ['.bcfks', 'BCFKS'],
]);
const PROTOCOLS = ['TLS', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** The scheme each authentication provider class ZooKeeper ships registers (AuthenticationProvider.getScheme). */
const PROVIDER_SCHEMES: ReadonlyMap<string, string> = new Map([
  ['org.apache.zookeeper.server.auth.X509AuthenticationProvider', 'x509'],
  ['org.apache.zookeeper.server.auth.SASLAuthenticationProvider', 'sasl'],
  ['org.apache.zookeeper.server.auth.DigestAuthenticationProvider', 'digest'],
  ['org.apache.zookeeper.server.auth.IPAuthenticationProvider', 'ip'],
]);

/** SecretUtils.readSecret: the file's text less one trailing line separator. */
function readSecret(file: string, key: string, fail: Fail): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return fail(key, `cannot read ${file}: ${(e as Error).message}`);
  }
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

function parseStore(prefix: string, take: Take, fail: Fail, base: string): KeyStoreRef | undefined {
  const location = take(`${prefix}.location`);
  let password = take(`${prefix}.password`) ?? '';
  const passwordPath = take(`${prefix}.passwordPath`);
  const typeRaw = take(`${prefix}.type`);
  if (location === undefined || location === '') return undefined;
  if (passwordPath !== undefined && passwordPath !== '') password = readSecret(path.resolve(base, passwordPath), `${prefix}.passwordPath`, fail);
  let type: KeyStoreType | undefined;
  if (typeRaw !== undefined && typeRaw !== '') {
    type = STORE_TYPES.find((t) => t === typeRaw.toUpperCase());
    if (type === undefined) fail(`${prefix}.type`, `'${typeRaw}' is not one of ${STORE_TYPES.join(', ')}`);
  } else {
    type = STORE_EXTENSIONS.get(path.extname(location).toLowerCase());
    if (type === undefined) fail(`${prefix}.type`, `not given, and the file name ${location} does not tell it (.pem, .p12, .pfx, .jks, .bcfks)`);
  }
  return { key: prefix, location: path.resolve(base, location), password, type: type };
}

function list(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * The ssl.* keys of the client ports, or the ssl.quorum.* keys of the quorum (the same keys under
 * another prefix, as X509Util's getConfigPrefix makes them); `reloadKey` turns certReload on.
 */
export function parseSslOptions(prefix: SslPrefix, reloadKey: string, take: Take, fail: Fail, base: string): SslOptions {
  const o = defaultSslOptions(prefix);
  o.keyStore = parseStore(`${prefix}.keyStore`, take, fail, base);
  o.trustStore = parseStore(`${prefix}.trustStore`, take, fail, base);
  const auth = take(`${prefix}.clientAuth`);
  if (auth !== undefined && auth !== '') {
    const a = auth.toLowerCase();
    if (a !== 'none' && a !== 'want' && a !== 'need') fail(`${prefix}.clientAuth`, `'${auth}' is not none, want or need`);
    o.clientAuth = a;
  }
  const protocol = take(`${prefix}.protocol`);
  if (protocol !== undefined) {
    if (!PROTOCOLS.includes(protocol)) fail(`${prefix}.protocol`, `'${protocol}' is not one of ${PROTOCOLS.join(', ')}`);
    o.protocol = protocol;
    o.enabledProtocols = [protocol];
  }
  const enabled = take(`${prefix}.enabledProtocols`);
  if (enabled !== undefined) {
    o.enabledProtocols = list(enabled);
    for (const p of o.enabledProtocols) if (!PROTOCOLS.includes(p)) fail(`${prefix}.enabledProtocols`, `'${p}' is not one of ${PROTOCOLS.join(', ')}`);
  }
  const ciphers = take(`${prefix}.ciphersuites`);
  if (ciphers !== undefined) o.ciphersuites = list(ciphers);
  // config.getBoolean(key, true): Boolean.parseBoolean, only "true" is true.
  const hv = take(`${prefix}.hostnameVerification`);
  if (hv !== undefined) o.hostnameVerification = hv.trim().toLowerCase() === 'true';
  const rdns = take(`${prefix}.allowReverseDnsLookup`);
  if (rdns !== undefined) o.allowReverseDnsLookup = rdns.trim().toLowerCase() === 'true';
  o.crl = parseRevocation(prefix, take, fail, base);
  const supplier = take(`${prefix}.context.supplier.class`);
  if (supplier !== undefined && supplier !== '')
    fail(
      `${prefix}.context.supplier.class`,
      `'${supplier}' is a Java SSLContext supplier, which tszk cannot load; give the ${prefix}.keyStore.* and ${prefix}.trustStore.* keys instead`,
    );
  const hd = take(`${prefix}.handshakeDetectionTimeoutMillis`);
  if (hd !== undefined) {
    if (!/^\d+$/.test(hd) || Number(hd) < 1) fail(`${prefix}.handshakeDetectionTimeoutMillis`, `'${hd}' is not a positive integer`);
    o.handshakeDetectionTimeout_ms = Number(hd);
  }
  o.certReload = take(reloadKey)?.trim().toLowerCase() === 'true';
  return o;
}

/**
 * ssl.crl / ssl.ocsp. ZooKeeper turns on Java's PKIX revocation check, which fetches each
 * certificate's CRL distribution points; tszk checks against the CRLs of one PEM or DER file
 * instead (ssl.crl.location, a tszk key), through OpenSSL, and has no OCSP client.
 * Returns the CRL file when the check is on.
 */
function parseRevocation(prefix: SslPrefix, take: Take, fail: Fail, base: string): string | undefined {
  const ocsp = take(`${prefix}.ocsp`);
  if (ocsp?.trim().toLowerCase() === 'true')
    fail(`${prefix}.ocsp`, `OCSP is not supported by tszk; use ${prefix}.crl=true with ${prefix}.crl.location (a CRL file)`);
  const crl = take(`${prefix}.crl`)?.trim().toLowerCase() === 'true';
  const location = take(`${prefix}.crl.location`);
  if (!crl) return undefined;
  if (location === undefined || location === '')
    return fail(
      `${prefix}.crl.location`,
      `is required with ${prefix}.crl=true: tszk checks certificates against the CRLs in this file and does not fetch CRL distribution points`,
    );
  return path.resolve(base, location);
}

/** QuorumPeerConfig.parseBoolean: true or false, anything else is an error. */
function strictBool(take: Take, fail: Fail, key: string): boolean {
  const v = take(key);
  if (v === undefined) return false;
  const l = v.trim().toLowerCase();
  if (l !== 'true' && l !== 'false') fail(key, `'${v}' is not true or false`);
  return l === 'true';
}

/** sslQuorum, portUnification, sslQuorumReloadCertFiles and ssl.quorum.*; sslQuorum or portUnification needs a key store. */
export function parseQuorumTls(take: Take, fail: Fail, base: string): QuorumTlsOptions {
  const sslQuorum = strictBool(take, fail, 'sslQuorum');
  const portUnification = strictBool(take, fail, 'portUnification');
  const ssl = parseSslOptions('ssl.quorum', 'sslQuorumReloadCertFiles', take, fail, base);
  if ((sslQuorum || portUnification) && ssl.keyStore === undefined) fail('ssl.quorum.keyStore.location', 'is required with sslQuorum or portUnification');
  return { sslQuorum, portUnification, ssl };
}

/** The JAAS file of java.security.auth.login.config, read once for the client and quorum SASL sections. */
export interface JaasConfig {
  file: string;
  sections: Map<string, JaasModule[]>;
}

export const JAAS_KEY = 'java.security.auth.login.config';

export function readJaasConfig(take: Take, fail: Fail, base: string): JaasConfig | undefined {
  const file = take(JAAS_KEY);
  if (file === undefined || file === '') return undefined;
  return { file, sections: readJaasFile(path.resolve(base, file), JAAS_KEY, fail) };
}

/**
 * quorum.auth.*: checked as QuorumPeerConfig does (a require without enableSasl, or serverRequireSasl
 * without learnerRequireSasl, is an error); with enableSasl the JAAS sections QuorumLearner and
 * QuorumServer (renamed by quorum.auth.learner/server.saslLoginContext) must exist, as ZooKeeper's
 * Login insists. quorum.auth.kerberos.servicePrincipal is read and unused (DIGEST-MD5 has no principal).
 */
export function parseQuorumSasl(take: Take, fail: Fail, jaas: JaasConfig | undefined): QuorumSaslOptions {
  const enabled = strictBool(take, fail, 'quorum.auth.enableSasl');
  const serverRequireSasl = strictBool(take, fail, 'quorum.auth.serverRequireSasl');
  const learnerRequireSasl = strictBool(take, fail, 'quorum.auth.learnerRequireSasl');
  const learnerSection = take('quorum.auth.learner.saslLoginContext') ?? 'QuorumLearner';
  const serverSection = take('quorum.auth.server.saslLoginContext') ?? 'QuorumServer';
  take('quorum.auth.kerberos.servicePrincipal');
  if (!enabled && serverRequireSasl) fail('quorum.auth.serverRequireSasl', 'needs quorum.auth.enableSasl=true');
  if (!enabled && learnerRequireSasl) fail('quorum.auth.learnerRequireSasl', 'needs quorum.auth.enableSasl=true');
  if (!learnerRequireSasl && serverRequireSasl) fail('quorum.auth.serverRequireSasl', 'needs quorum.auth.learnerRequireSasl=true');
  if (!enabled) return { enabled, learnerRequireSasl, serverRequireSasl, learner: undefined, serverUsers: new Map() };
  if (jaas === undefined) return fail(JAAS_KEY, 'is required with quorum.auth.enableSasl=true (a JAAS file with QuorumServer and QuorumLearner sections)');
  const section = (name: string): JaasModule[] => {
    const modules = jaas.sections.get(name);
    if (modules === undefined || modules.length === 0) return fail(JAAS_KEY, `${jaas.file} has no section '${name}' (quorum.auth.enableSasl=true)`);
    return modules;
  };
  const serverUsers = digestUsers(section(serverSection));
  const learner = digestCredentials(section(learnerSection));
  if (learner === undefined) fail(JAAS_KEY, `${jaas.file}: section '${learnerSection}' has no DigestLoginModule username and password`);
  return { enabled, learnerRequireSasl, serverRequireSasl, learner, serverUsers };
}

/**
 * authProvider.N=class: the schemes ZooKeeper's ProviderRegistry would add. A class it could not
 * load is logged and skipped there; here it becomes a warning.
 */
export function parseAuthProviders(props: Map<string, string>, warnings: string[]): Set<string> {
  const schemes = new Set<string>();
  for (const [k, v] of [...props]) {
    if (!/^(zookeeper\.)?authProvider\.[^.]+$/.test(k)) continue;
    props.delete(k);
    const scheme = PROVIDER_SCHEMES.get(v.trim());
    if (scheme === undefined) warnings.push(`${k}: authentication provider ${v} is not one tszk has; ignored`);
    else schemes.add(scheme);
  }
  return schemes;
}

/** Reads and parses a JAAS file; any problem names the key that gave the file. */
export function readJaasFile(file: string, key: string, fail: Fail): ReturnType<typeof parseJaas> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return fail(key, `cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return parseJaas(text);
  } catch (e) {
    if (e instanceof JaasError) return fail(key, `${file}: ${e.message}`);
    throw e;
  }
}

/**
 * SASL for clients: the JAAS file's Server section (zookeeper.sasl.serverconfig renames it),
 * zookeeper.superUser[.*], sessionRequireClientSASLAuth / enforce.auth.*, allowSaslFailedClients.
 */
export function parseSaslOptions(
  props: Map<string, string>,
  take: Take,
  fail: Fail,
  jaas: JaasConfig | undefined,
  warnings: string[],
): Pick<ServerOptions, 'saslUsers' | 'saslSuperUsers' | 'enforceAuthSchemes' | 'allowSaslFailedClients'> {
  const section = take('sasl.serverconfig') ?? 'Server';
  let saslUsers: Map<string, string> | undefined;
  if (jaas !== undefined) {
    const modules = jaas.sections.get(section);
    if (modules === undefined) warnings.push(`${JAAS_KEY}: ${jaas.file} has no section '${section}'; clients get no SASL`);
    else saslUsers = digestUsers(modules);
  }
  const saslSuperUsers: string[] = [];
  for (const [k, v] of [...props]) {
    if (!/^(zookeeper\.)?superUser(\..+)?$/.test(k)) continue;
    props.delete(k);
    saslSuperUsers.push(v);
  }
  let enforceAuthSchemes: string[] = [];
  const requireSasl = take('sessionRequireClientSASLAuth');
  const enforce = take('enforce.auth.enabled');
  const schemes = take('enforce.auth.schemes');
  if (requireSasl?.toLowerCase() === 'true') enforceAuthSchemes = ['sasl'];
  else if (enforce?.toLowerCase() === 'true') {
    enforceAuthSchemes = list(schemes ?? '');
    if (enforceAuthSchemes.length === 0) fail('enforce.auth.schemes', 'must be configured when enforce.auth.enabled is true');
  }
  const allowSaslFailedClients = take('allowSaslFailedClients')?.toLowerCase() === 'true';
  return { saslUsers, saslSuperUsers, enforceAuthSchemes, allowSaslFailedClients };
}
