/**
 * Authentication schemes and ACL checks as ZooKeeper's providers do them: world, auth (expanded
 * at create/setACL), digest (user:base64(sha1(user:password))), ip (address[/bits]), and super
 * (via superDigest). Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { Err, KeeperError } from '../proto/errors.js';
import type { ACL, Id } from '../proto/records.js';

/** DigestAuthenticationProvider.generateDigest. */
export function generateDigest(idPassword: string): string {
  const colon = idPassword.indexOf(':');
  const user = colon < 0 ? idPassword : idPassword.substring(0, colon);
  return `${user}:${createHash('sha1').update(idPassword, 'utf8').digest('base64')}`;
}

/** Java's String.split(sep) part count: trailing empty strings dropped. */
function javaSplitCount(s: string, sep: string): number {
  const parts = s.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.length;
}

function ipv4Bytes(addr: string): number[] | undefined {
  const parts = addr.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out.push(v);
  }
  return out;
}

/** Client address as the ip scheme sees it (IPv4-mapped IPv6 unwrapped). */
export function normalizeClientAddress(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.substring(7) : addr;
}

function parseIpExpr(expr: string): { addr: number[]; bits: number } | undefined {
  const slash = expr.indexOf('/');
  const addr = ipv4Bytes(slash < 0 ? expr : expr.substring(0, slash));
  if (addr === undefined) return undefined;
  let bits = addr.length * 8;
  if (slash >= 0) {
    const b = expr.substring(slash + 1);
    if (!/^[+-]?\d+$/.test(b)) return undefined;
    bits = Number(b);
    if (bits < 0 || bits > addr.length * 8) return undefined;
  }
  return { addr, bits };
}

function ipMatches(clientAddr: string, expr: string): boolean {
  const e = parseIpExpr(expr);
  const c = ipv4Bytes(clientAddr);
  if (e === undefined || c === undefined) return false;
  for (let i = 0; i < 4; i++) {
    const keep = Math.max(0, Math.min(8, e.bits - i * 8));
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((c[i]! & mask) !== (e.addr[i]! & mask)) return false;
  }
  return true;
}

/** Schemes registered by authProvider.N that ids can name (x509, sasl): beside ip and digest, always there. */
function registered(policy: AclPolicy, scheme: string): boolean {
  return policy.authProviders?.has(scheme) ?? false;
}

/** Whether a scheme has a server-side provider, and whether ids of that scheme are well formed. */
function providerValid(policy: AclPolicy, scheme: string, id: string): boolean {
  if (scheme === 'digest') return javaSplitCount(id, ':') === 2;
  if (scheme === 'ip') return parseIpExpr(id) !== undefined;
  // X500Principal and KerberosName accept nearly any non-empty text.
  if (scheme === 'x509' || scheme === 'sasl') return registered(policy, scheme) && id !== '';
  return false;
}

/** Schemes whose ids stand for an authenticated user (expanded by the "auth" ACL scheme). */
function providerAuthenticated(policy: AclPolicy, scheme: string): boolean {
  return scheme === 'digest' || ((scheme === 'x509' || scheme === 'sasl') && registered(policy, scheme));
}

function aclEquals(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id;
}

/** PrepRequestProcessor.fixupACL: dedupe, validate, expand "auth"; InvalidACL when not acceptable. */
export function fixupACL(path: string, authInfo: readonly Id[], acls: readonly ACL[], policy: AclPolicy = { skipACL: false }): ACL[] {
  const uniq: ACL[] = [];
  for (const a of acls) if (!uniq.some((u) => aclEquals(u, a))) uniq.push(a);
  if (uniq.length === 0) throw new KeeperError(Err.InvalidACL, path);
  const out: ACL[] = [];
  for (const a of uniq) {
    const { scheme, id } = a.id;
    if (scheme === 'world' && id === 'anyone') {
      out.push(a);
    } else if (scheme === 'auth') {
      let valid = false;
      for (const cid of authInfo) {
        if (providerAuthenticated(policy, cid.scheme)) {
          valid = true;
          out.push({ perms: a.perms, id: { scheme: cid.scheme, id: cid.id } });
        }
      }
      if (!valid) throw new KeeperError(Err.InvalidACL, path);
    } else {
      if (!providerValid(policy, scheme, id)) throw new KeeperError(Err.InvalidACL, path);
      out.push(a);
    }
  }
  return out;
}

export interface AclPolicy {
  skipACL: boolean;
  /** Schemes of the providers loaded by authProvider.N (x509, sasl). */
  authProviders?: ReadonlySet<string>;
  /** X509AuthenticationProvider.superUser: this subject matches every x509 ACL entry. */
  x509SuperUser?: string | undefined;
}

/** ZooKeeperServer.checkACL: throws NoAuth unless some entry with one of `perm`'s bits matches. */
export function checkACL(policy: AclPolicy, acl: readonly ACL[], perm: number, authInfo: readonly Id[], path?: string): void {
  if (!hasPermission(policy, acl, perm, authInfo)) throw new KeeperError(Err.NoAuth, path);
}

export function hasPermission(policy: AclPolicy, acl: readonly ACL[], perm: number, authInfo: readonly Id[]): boolean {
  if (policy.skipACL) return true;
  if (acl.length === 0) return true;
  for (const a of authInfo) if (a.scheme === 'super') return true;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    const { scheme, id } = a.id;
    if (scheme === 'world' && id === 'anyone') return true;
    if (scheme === 'digest') {
      for (const cid of authInfo) if (cid.scheme === 'digest' && cid.id === id) return true;
    } else if (scheme === 'ip') {
      for (const cid of authInfo) if (cid.scheme === 'ip' && ipMatches(cid.id, id)) return true;
    } else if (scheme === 'x509' && registered(policy, scheme)) {
      const su = policy.x509SuperUser;
      for (const cid of authInfo) if (cid.scheme === 'x509' && (cid.id === id || (su !== undefined && cid.id === su))) return true;
    } else if (scheme === 'sasl' && registered(policy, scheme)) {
      // SASLAuthenticationProvider.matches: the id "super" matches every sasl entry.
      for (const cid of authInfo) if (cid.scheme === 'sasl' && (cid.id === id || cid.id === 'super')) return true;
    }
  }
  return false;
}

/**
 * Handles an auth packet (ZooKeeperServer.processPacket + provider.handleAuthentication):
 * the ids to add, or undefined for AuthFailed.
 */
export function authenticate(scheme: string, auth: Buffer | null, clientAddr: string, superDigest: string | undefined): Id[] | undefined {
  if (scheme === 'digest') {
    const digest = generateDigest((auth ?? Buffer.alloc(0)).toString('utf8'));
    const ids: Id[] = [];
    if (superDigest !== undefined && digest === superDigest) ids.push({ scheme: 'super', id: '' });
    ids.push({ scheme: 'digest', id: digest });
    return ids;
  }
  if (scheme === 'ip') return [{ scheme: 'ip', id: normalizeClientAddress(clientAddr) }];
  return undefined;
}

/** Adds ids to a connection's auth info (a set: no duplicates). */
export function addAuthInfo(authInfo: Id[], ids: readonly Id[]): void {
  for (const id of ids) if (!authInfo.some((a) => a.scheme === id.scheme && a.id === id.id)) authInfo.push(id);
}

/** whoAmI's user name for an id (AuthenticationProvider.getUserName). */
export function userName(id: Id): string {
  if (id.scheme === 'digest') return id.id.split(':')[0] ?? '';
  return id.id;
}

/** Java's String.hashCode. */
function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Bucket capacity of the ConcurrentHashMap behind a connection's auth set (grows past 12 ids). */
function chmCapacity(n: number): number {
  let cap = 16;
  while (n > cap * 0.75) cap *= 2;
  return cap;
}

/**
 * Auth ids in the order ZooKeeper lists them (whoAmI): its auth info is a set backed by a
 * ConcurrentHashMap, iterated by hash bucket, each bucket in insertion order.
 */
export function javaAuthOrder(ids: readonly Id[]): Id[] {
  const mask = chmCapacity(ids.length) - 1;
  const bucket = (id: Id): number => {
    const h = (Math.imul(37, Math.imul(37, 17) + javaStringHash(id.scheme)) + javaStringHash(id.id)) | 0;
    return (h ^ (h >>> 16)) & 0x7fffffff & mask;
  };
  return ids
    .map((id, i) => ({ id, i, b: bucket(id) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((x) => x.id);
}
