/**
 * A damaged or inconsistent dataDir. Recovery throws it instead of loading a partial history;
 * the message names the file and the byte offset so an operator can look at the bytes.
 */
export class StorageError extends Error {
  constructor(
    readonly reason: string,
    readonly path: string,
    readonly offset: number | undefined,
  ) {
    super(offset === undefined ? `${path}: ${reason}` : `${path} at byte offset ${offset}: ${reason}`);
    this.name = 'StorageError';
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
