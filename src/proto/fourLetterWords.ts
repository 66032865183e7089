/**
 * Four-letter words on the client port (ZooKeeper's FourLetterCommands): a connection whose first
 * 4 bytes, read where a frame length would be, spell one of these.
 */
const WORDS = ['conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'ruok', 'stmk', 'srst', 'srvr', 'stat', 'wchc', 'wchp', 'wchs', 'mntr', 'isro', 'hash'];
const byCode = new Map<number, string>(WORDS.map((w) => [Buffer.from(w, 'latin1').readInt32BE(0), w]));

/** The word whose 4 bytes read as this int, if it is one ZooKeeper knows. */
export function fourLetterCode(first: number): string | undefined {
  return byCode.get(first);
}
