/**
 * The client side of ZooKeeper's SASL DIGEST-MD5 exchange (what the Java client and kazoo's
 * pure-sasl do, and a quorum learner with QUORUM_DIGEST): an empty first token, the response to
 * the server's challenge, then the server's rspauth checked.
 */
import { randomBytes } from 'node:crypto';
import { CLIENT_DIGEST, digestResponse, parseDirectives, type DigestProfile } from '../proto/digestMd5.js';

export type SaslClientStep = { next: Buffer } | { done: true } | { error: string };

export class DigestMd5Client {
  private step: 'initial' | 'sent' | 'responded' | 'done' = 'initial';
  private expectedRspauth = '';

  constructor(
    private readonly username: string,
    private readonly password: string,
    private readonly profile: DigestProfile = CLIENT_DIGEST,
  ) {}

  /** The first token (DIGEST-MD5 starts with the server's challenge: an empty one). */
  start(): Buffer {
    this.step = 'sent';
    return Buffer.alloc(0);
  }

  /** The server's answer to our last token. */
  evaluate(token: Buffer | null): SaslClientStep {
    const d = parseDirectives((token ?? Buffer.alloc(0)).toString('utf8'));
    if (this.step === 'sent') {
      const nonce = d?.get('nonce');
      if (d === undefined || nonce === undefined) return { error: 'DIGEST-MD5: the server sent no challenge (has it a JAAS Server section?)' };
      const cnonce = randomBytes(24).toString('base64');
      const { realm, digestUri } = this.profile;
      const inputs = { realm, username: this.username, password: this.password, nonce, cnonce, nc: '00000001', qop: 'auth' };
      this.expectedRspauth = digestResponse(inputs, `:${digestUri}`);
      this.step = 'responded';
      const q = (s: string): string => `"${s.replace(/(["\\])/g, '\\$1')}"`;
      const text =
        `charset=utf-8,username=${q(this.username)},realm=${q(realm)},nonce=${q(nonce)},nc=00000001,cnonce=${q(cnonce)},` +
        `digest-uri=${q(digestUri)},maxbuf=65536,response=${digestResponse(inputs, `AUTHENTICATE:${digestUri}`)},qop=auth`;
      return { next: Buffer.from(text, 'utf8') };
    }
    if (this.step === 'responded') {
      if (d?.get('rspauth') !== this.expectedRspauth) return { error: 'DIGEST-MD5: the server did not prove it knows the password (rspauth)' };
      this.step = 'done';
      return { done: true };
    }
    return { error: 'DIGEST-MD5: unexpected token' };
  }
}
