/**
 * The security keys of zoo.cfg (or -D), as ZooKeeper 3.8 reads them: ssl.* for the client ports
 * (ClientX509Util), authProvider.N, ssl.authProvider, X509AuthenticationProvider.superUser.
 * Values are checked here and name their key; the key stores themselves are opened by the node
 * I/O layer (tlsContext.ts) when the port is bound.
 */
import fs from 'node:fs';
import path from 'node:path';
import { digestUsers, JaasError, parseJaas } from './jaas.js';
import { defaultSslOptions, type KeyStoreRef, type KeyStoreType, type ServerOptions, type SslOptions } from './options.js';

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

/** The ssl.* keys of the client ports. */
export function parseSslOptions(take: Take, fail: Fail, base: string): SslOptions {
  const o = defaultSslOptions();
  o.keyStore = parseStore('ssl.keyStore', take, fail, base);
  o.trustStore = parseStore('ssl.trustStore', take, fail, base);
  const auth = take('ssl.clientAuth');
  if (auth !== undefined && auth !== '') {
    const a = auth.toLowerCase();
    if (a !== 'none' && a !== 'want' && a !== 'need') fail('ssl.clientAuth', `'${auth}' is not none, want or need`);
    o.clientAuth = a;
  }
  const protocol = take('ssl.protocol');
  if (protocol !== undefined) {
    if (!PROTOCOLS.includes(protocol)) fail('ssl.protocol', `'${protocol}' is not one of ${PROTOCOLS.join(', ')}`);
    o.protocol = protocol;
    o.enabledProtocols = [protocol];
  }
  const enabled = take('ssl.enabledProtocols');
  if (enabled !== undefined) {
    o.enabledProtocols = list(enabled);
    for (const p of o.enabledProtocols) if (!PROTOCOLS.includes(p)) fail('ssl.enabledProtocols', `'${p}' is not one of ${PROTOCOLS.join(', ')}`);
  }
  const ciphers = take('ssl.ciphersuites');
  if (ciphers !== undefined) o.ciphersuites = list(ciphers);
  // config.getBoolean(key, true): Boolean.parseBoolean, only "true" is true.
  const hv = take('ssl.hostnameVerification');
  if (hv !== undefined) o.hostnameVerification = hv.trim().toLowerCase() === 'true';
  const hd = take('ssl.handshakeDetectionTimeoutMillis');
  if (hd !== undefined) {
    if (!/^\d+$/.test(hd) || Number(hd) < 1) fail('ssl.handshakeDetectionTimeoutMillis', `'${hd}' is not a positive integer`);
    o.handshakeDetectionTimeout_ms = Number(hd);
  }
  o.certReload = take('client.certReload')?.trim().toLowerCase() === 'true';
  return o;
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
  base: string,
  warnings: string[],
): Pick<ServerOptions, 'saslUsers' | 'saslSuperUsers' | 'enforceAuthSchemes' | 'allowSaslFailedClients'> {
  const jaasKey = 'java.security.auth.login.config';
  const jaasFile = take(jaasKey);
  const section = take('sasl.serverconfig') ?? 'Server';
  let saslUsers: Map<string, string> | undefined;
  if (jaasFile !== undefined && jaasFile !== '') {
    const modules = readJaasFile(path.resolve(base, jaasFile), jaasKey, fail).get(section);
    if (modules === undefined) warnings.push(`${jaasKey}: ${jaasFile} has no section '${section}'; clients get no SASL`);
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
