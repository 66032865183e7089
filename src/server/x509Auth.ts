/**
 * What a TLS client's certificate makes of its connection, as ZooKeeper's CertificateVerifier and
 * X509AuthenticationProvider do: the id x509:<subject> (and super, for X509AuthenticationProvider.superUser).
 * The certificate has been verified against the trust store by the TLS layer already.
 */
import { log } from '../log.js';
import type { Id } from '../proto/records.js';
import type { ServerOptions } from './options.js';
import { certificateSubject } from './x500Name.js';

/** The ids a client certificate gives; undefined: the connection is refused (no provider, unreadable subject). */
export function x509Ids(o: ServerOptions, cert: Buffer, addr: string): Id[] | undefined {
  // ssl.authProvider names the scheme; only a registered x509 provider authenticates certificates.
  if (o.sslAuthProvider !== 'x509' || !o.authProviders.has('x509')) {
    log.error({ addr }, `X509 Auth provider not found: ${o.sslAuthProvider}`);
    return undefined;
  }
  const subject = certificateSubject(cert);
  if (subject === undefined) {
    log.error({ addr }, 'Authentication failed: the client certificate subject does not parse');
    return undefined;
  }
  const ids: Id[] = [];
  if (o.x509SuperUser !== undefined && subject === o.x509SuperUser) ids.push({ scheme: 'super', id: subject });
  ids.push({ scheme: 'x509', id: subject });
  log.info({ addr }, `Authenticated Id '${subject}' for Scheme 'x509'`);
  return ids;
}
