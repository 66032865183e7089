/**
 * zkCli's -client-configuration file (ZKClientConfig properties) for `tszk shell`:
 * zookeeper.client.secure and the zookeeper.ssl.keyStore.* / trustStore.* stores (PEM, PKCS12),
 * zookeeper.ssl.hostnameVerification, allowReverseDnsLookup, crl (+ tszk's crl.location); SASL from the JAAS file named by
 * java.security.auth.login.config (its zookeeper.sasl.clientconfig section, default Client)
 * unless zookeeper.sasl.client=false. A bad file or store names the key (exit 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ClientSaslOptions, ClientTlsOptions } from '../client/index.js';
import { ConfigError, parseProperties } from '../server/config.js';
import { digestCredentials } from '../server/jaas.js';
import { parseSslOptions, readJaasFile } from '../server/securityConfig.js';
import { keyStoreOptions, readCrls, trustStoreCa } from '../server/tlsContext.js';

export function readClientConfiguration(file: string): { tls?: ClientTlsOptions; sasl?: ClientSaslOptions } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('-client-configuration', `cannot read ${file}: ${(e as Error).message}`);
  }
  const props = parseProperties(text);
  const take = (key: string): string | undefined => props.get(`zookeeper.${key}`) ?? props.get(key);
  const fail = (key: string, problem: string): never => {
    throw new ConfigError(key, problem, file);
  };
  const base = path.dirname(file);
  const out: { tls?: ClientTlsOptions; sasl?: ClientSaslOptions } = {};
  if (take('client.secure')?.toLowerCase() === 'true') {
    const ssl = parseSslOptions('ssl', 'client.certReload', take, fail, base);
    const t: ClientTlsOptions = ssl.keyStore === undefined ? {} : { ...keyStoreOptions(ssl.keyStore) };
    if (ssl.trustStore !== undefined) t.ca = trustStoreCa(ssl.trustStore);
    if (!ssl.hostnameVerification) t.checkServerIdentity = () => undefined;
    t.allowReverseDnsLookup = ssl.allowReverseDnsLookup;
    if (ssl.crl !== undefined) t.crl = readCrls(ssl.prefix, ssl.crl);
    out.tls = t;
  }
  const jaasKey = 'java.security.auth.login.config';
  const jaasFile = props.get(jaasKey);
  if (jaasFile !== undefined && take('sasl.client')?.toLowerCase() !== 'false') {
    const section = take('sasl.clientconfig') ?? 'Client';
    const creds = digestCredentials(readJaasFile(path.resolve(base, jaasFile), jaasKey, fail).get(section) ?? []);
    if (creds === undefined) fail(jaasKey, `${jaasFile} has no section '${section}' with a DigestLoginModule username and password`);
    out.sasl = { mechanism: 'DIGEST-MD5', ...creds! };
  }
  return out;
}
