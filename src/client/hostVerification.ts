/**
 * ZooKeeper's host check of a TLS peer (ZKTrustManager, ssl[.quorum].hostnameVerification): the
 * peer's certificate must name the address of the connection; failing that, the host name the
 * connection was made with; failing that, and only with allowReverseDnsLookup, the name the
 * address resolves back to (getnameinfo, as Java's InetAddress.getHostName: /etc/hosts first).
 * Used by the client and by quorum peers on both ends of a connection.
 */
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import { plainAddress } from '../proto/addresses.js';

/**
 * Why `cert` does not fit the peer at `address` (undefined: it does). `hostName` is the name the
 * connection was made with (a connect string's or server.N's host; none for an accepted one);
 * `reverseKey` names the setting that allows the reverse lookup, for the message.
 */
export async function peerHostMismatch(
  cert: tls.PeerCertificate,
  address: string,
  hostName: string | undefined,
  allowReverseDnsLookup: boolean,
  reverseKey: string,
): Promise<string | undefined> {
  const ip = plainAddress(address);
  if (tls.checkServerIdentity(ip, cert) === undefined) return undefined;
  let name = hostName !== undefined && net.isIP(hostName) === 0 ? hostName : undefined;
  if (name === undefined) {
    if (!allowReverseDnsLookup) return `the certificate does not name ${ip}, and reverse lookup is disabled (${reverseKey}=false)`;
    name = await dns.promises.lookupService(ip, 0).then(
      (r) => r.hostname,
      () => undefined,
    );
    if (name === undefined || name === ip) return `the certificate does not name ${ip}, which has no host name`;
  }
  const e = tls.checkServerIdentity(name, cert);
  return e === undefined ? undefined : `the certificate names neither ${ip} nor ${name} (${e.message})`;
}
