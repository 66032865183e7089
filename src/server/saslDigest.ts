/**
 * The server side of SASL DIGEST-MD5 (RFC 2831) as ZooKeeper's server runs it: the Java
 * DigestMD5Server for clients (protocol "zookeeper", users from the JAAS Server section) or for
 * quorum learners (QUORUM_DIGEST, users from QuorumServer), qop auth. One instance per exchange;
 * each token the other side sends goes to evaluate().
 */
import { randomBytes } from 'node:crypto';
import { CLIENT_DIGEST, digestResponse, parseDirectives, type DigestProfile } from '../proto/digestMd5.js';
/** Java's DigestMD5Server refuses responses longer than this (RFC 2831 2.1.2). */
const RESPONSE_BYTES_MAX = 4096;

export type SaslStep =
  /** Answer with this token (null: none); `user` once the exchange is complete. */
  { ok: true; token: Buffer | null; user?: string; authzid?: string } | { ok: false; reason: string };

export class DigestMd5Server {
  private step: 'initial' | 'challenged' | 'complete' | 'failed' = 'initial';
  private nonce = '';

  constructor(
    private readonly users: ReadonlyMap<string, string>,
    private readonly profile: DigestProfile = CLIENT_DIGEST,
  ) {}

  evaluate(token: Buffer): SaslStep {
    const r = this.evaluateStep(token);
    if (!r.ok) this.step = 'failed';
    return r;
  }

  private evaluateStep(token: Buffer): SaslStep {
    if (token.length > RESPONSE_BYTES_MAX) return { ok: false, reason: 'DIGEST-MD5: Invalid digest response length. Got:  ' + token.length };
    switch (this.step) {
      case 'initial':
        // DIGEST-MD5 starts with the server's challenge; like Java's DigestMD5Server, whatever a
        // client sent first (a GSSAPI client's Kerberos token) is ignored and gets the challenge.
        this.nonce = randomBytes(30).toString('base64');
        this.step = 'challenged';
        return { ok: true, token: Buffer.from(`realm="${this.profile.realm}",nonce="${this.nonce}",qop="auth",charset=utf-8,algorithm=md5-sess`, 'utf8') };
      case 'challenged':
        return this.checkResponse(token.toString('utf8'));
      default:
        return { ok: false, reason: 'DIGEST-MD5: Server at illegal state' };
    }
  }

  private checkResponse(text: string): SaslStep {
    const d = parseDirectives(text);
    if (d === undefined) return { ok: false, reason: 'DIGEST-MD5: Invalid token in digest response' };
    const username = d.get('username');
    const response = d.get('response');
    const cnonce = d.get('cnonce');
    const nc = d.get('nc') ?? '';
    const qop = d.get('qop') ?? 'auth';
    const uri = d.get('digest-uri');
    const authzid = d.get('authzid');
    if (username === undefined || response === undefined || cnonce === undefined) return { ok: false, reason: 'DIGEST-MD5: digest response format violation' };
    if (d.get('nonce') !== this.nonce) return { ok: false, reason: 'DIGEST-MD5: digest response format violation. Mismatched nonce.' };
    if (nc !== '00000001') return { ok: false, reason: 'DIGEST-MD5: Nonce count does not match: ' + nc };
    if (qop !== 'auth') return { ok: false, reason: `DIGEST-MD5: Unrecognized qop: ${qop}` };
    const { realm, digestUri } = this.profile;
    if ((d.get('realm') ?? realm) !== realm) return { ok: false, reason: 'DIGEST-MD5: digest response format violation. Mismatched realm' };
    if (uri !== digestUri) return { ok: false, reason: `DIGEST-MD5: digest response format violation. Mismatched URI: ${uri ?? ''}; expecting: ${digestUri}` };
    const password = this.users.get(username);
    if (password === undefined) return { ok: false, reason: `DIGEST-MD5: cannot acquire password for ${username} in realm : ${realm}` };
    const kd = (a2: string): string => digestResponse({ realm, username, password, nonce: this.nonce, cnonce, nc, qop, authzid }, a2);
    if (kd(`AUTHENTICATE:${uri}`) !== response.toLowerCase())
      return { ok: false, reason: 'DIGEST-MD5: digest response format violation. Mismatched response.' };
    this.step = 'complete';
    // ZooKeeper's SaslServerCallbackHandler authorizes the authenticated name whatever authzid says.
    return { ok: true, token: Buffer.from(`rspauth=${kd(`:${uri}`)}`, 'utf8'), user: username, ...(authzid === undefined ? {} : { authzid }) };
  }
}
