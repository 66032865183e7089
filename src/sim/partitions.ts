import type { Prng } from './prng.js';

/**
 * A random network partition among peers 1..n, as the directed links it cuts ("a>b"): one peer
 * isolated, a random split in two, or a single link one way (asymmetric).
 */
export function drawPartition(prng: Prng, n: number): string[] {
  const pairs: string[] = [];
  const kind = prng.int(3);
  if (kind === 0) {
    const x = prng.range(1, n);
    for (let y = 1; y <= n; y++) if (y !== x) pairs.push(`${x}>${y}`, `${y}>${x}`);
  } else if (kind === 1) {
    const side = Array.from({ length: n }, () => prng.chance(0.5));
    for (let x = 1; x <= n; x++) for (let y = 1; y <= n; y++) if (side[x - 1] !== side[y - 1]) pairs.push(`${x}>${y}`);
  } else {
    const x = prng.range(1, n);
    let y = prng.range(1, n - 1);
    if (y >= x) y++;
    pairs.push(`${x}>${y}`);
  }
  return pairs;
}
