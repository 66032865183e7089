/** snappyjs (pure-JS Snappy) ships no types: the two functions tszk uses, for Buffers. */
declare module 'snappyjs' {
  /** Raw Snappy block format; throws on a corrupt block or one that would exceed maxLength. */
  export function uncompress(compressed: Buffer, maxLength?: number): Buffer;
  export function compress(uncompressed: Buffer): Buffer;
}
