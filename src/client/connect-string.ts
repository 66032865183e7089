/** A parsed ZooKeeper connect string: `host1:port1,host2:port2/chroot`. */
export interface HostPort {
  host: string;
  port: number;
}

export interface ConnectString {
  hosts: HostPort[];
  /** Server-side prefix of every path, without a trailing slash; '' when there is none. */
  chroot: string;
}

const DEFAULT_CLIENT_PORT = 2181;

export function parseConnectString(s: string): ConnectString {
  const slash = s.indexOf('/');
  const hostPart = slash === -1 ? s : s.slice(0, slash);
  let chroot = slash === -1 ? '' : s.slice(slash);
  if (chroot === '/') chroot = '';
  if (chroot !== '') validateChroot(chroot);
  const hosts: HostPort[] = [];
  for (const raw of hostPart.split(',')) {
    const h = raw.trim();
    if (h === '') continue;
    hosts.push(parseHostPort(h));
  }
  if (hosts.length === 0) throw new Error(`connect string has no hosts: ${JSON.stringify(s)}`);
  return { hosts, chroot };
}

function parseHostPort(h: string): HostPort {
  // [ipv6]:port
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    if (close === -1) throw new Error(`bad host ${h}`);
    const host = h.slice(1, close);
    const rest = h.slice(close + 1);
    return { host, port: rest.startsWith(':') ? parsePort(rest.slice(1), h) : DEFAULT_CLIENT_PORT };
  }
  const colon = h.lastIndexOf(':');
  if (colon === -1) return { host: h, port: DEFAULT_CLIENT_PORT };
  return { host: h.slice(0, colon), port: parsePort(h.slice(colon + 1), h) };
}

function parsePort(p: string, h: string): number {
  const n = Number(p);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`bad port in ${h}`);
  return n;
}

function validateChroot(chroot: string): void {
  if (chroot.endsWith('/')) throw new Error(`chroot must not end with '/': ${chroot}`);
  if (chroot.includes('//')) throw new Error(`chroot has an empty node name: ${chroot}`);
}

/** Client path -> server path. */
export function prependChroot(chroot: string, path: string): string {
  if (chroot === '') return path;
  return path === '/' ? chroot : chroot + path;
}

/** Server path -> client path (paths outside the chroot are returned unchanged). */
export function stripChroot(chroot: string, path: string): string {
  if (chroot === '' || !path.startsWith(chroot)) return path;
  if (path.length === chroot.length) return '/';
  if (path.charCodeAt(chroot.length) !== 47 /* '/' */) return path;
  return path.slice(chroot.length);
}
