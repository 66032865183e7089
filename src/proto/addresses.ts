/**
 * A peer's address as ZooKeeper shows it (logs, `cons`, the ip scheme, host checks): an
 * IPv4-mapped IPv6 address as plain IPv4. Kept apart from the TLS and DNS modules that use it, so
 * a plaintext server does not load them.
 */

/** An address as ZooKeeper shows it: an IPv4-mapped IPv6 address as plain IPv4. */
export function plainAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.substring(7) : a;
}

/** A connected socket's remote address as ZooKeeper shows it. */
export function remoteAddress(s: { readonly remoteAddress?: string | undefined }): string {
  return plainAddress(s.remoteAddress ?? '');
}
