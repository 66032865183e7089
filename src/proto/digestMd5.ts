/**
 * SASL DIGEST-MD5 (RFC 2831) as ZooKeeper uses it, qop auth, the realm being the server name:
 * between clients and servers protocol "zookeeper", server name "zk-sasl-md5"; between quorum
 * peers "zookeeper-quorum", "zk-quorum-sasl-md5" (QuorumAuth). What both ends compute; the server
 * is src/server/saslDigest.ts, the client src/client/saslDigestClient.ts.
 */
import { createHash } from 'node:crypto';

/** Which exchange: the protocol and server name both ends pass to Java's Sasl factory. */
export interface DigestProfile {
  /** Also the realm (Java's DigestMD5Server defaults its realm to the server name). */
  realm: string;
  /** digest-uri: protocol/serverName. */
  digestUri: string;
}

export const CLIENT_DIGEST: DigestProfile = { realm: 'zk-sasl-md5', digestUri: 'zookeeper/zk-sasl-md5' };
export const QUORUM_DIGEST: DigestProfile = { realm: 'zk-quorum-sasl-md5', digestUri: 'zookeeper-quorum/zk-quorum-sasl-md5' };

function md5(...parts: (string | Buffer)[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** RFC 2831 directives: key=value or key="quoted\"value", comma-separated; undefined when malformed. */
export function parseDirectives(text: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  let i = 0;
  const skipSeparators = (): void => {
    while (i < text.length && /[\s,]/.test(text[i]!)) i++;
  };
  skipSeparators();
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) return undefined;
    const key = text.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    let value = '';
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
      if (i >= text.length) return undefined;
      i++;
    } else {
      while (i < text.length && text[i] !== ',') value += text[i++];
      value = value.trim();
    }
    if (key === '' || out.has(key)) return undefined;
    out.set(key, value);
    skipSeparators();
  }
  return out;
}

export interface DigestInputs {
  realm: string;
  username: string;
  password: string;
  nonce: string;
  cnonce: string;
  nc: string;
  qop: string;
  authzid?: string | undefined;
}

/** KD(H(A1), nonce:nc:cnonce:qop:H(A2)) in hex, A1 for algorithm md5-sess (RFC 2831 2.1.2.1). */
export function digestResponse(d: DigestInputs, a2: string): string {
  const a1 = Buffer.concat([md5(`${d.username}:${d.realm}:${d.password}`), Buffer.from(`:${d.nonce}:${d.cnonce}${d.authzid ? `:${d.authzid}` : ''}`, 'utf8')]);
  const ha1 = md5(a1).toString('hex');
  return md5(`${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${md5(a2).toString('hex')}`).toString('hex');
}
