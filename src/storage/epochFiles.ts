/**
 * `acceptedEpoch` and `currentEpoch` in dataDir/version-2 and `myid` in dataDir: decimal text
 * (ZooKeeper writes the number with no newline and reads the first line).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { StorageError } from './errors.js';
import { writeFileAtomic } from './fsutil.js';

export const ACCEPTED_EPOCH_FILE = 'acceptedEpoch';
export const CURRENT_EPOCH_FILE = 'currentEpoch';
export const MYID_FILE = 'myid';

/** The number in `file`, or undefined when the file does not exist. */
export async function readLongFile(file: string): Promise<bigint | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const line = text.split('\n')[0]!.trim();
  if (!/^-?\d+$/.test(line)) throw new StorageError(`expected a number, found ${JSON.stringify(line)}`, file, 0);
  return BigInt(line);
}

export async function writeLongFile(file: string, value: bigint, fsync = true): Promise<void> {
  await writeFileAtomic(file, value.toString(), fsync);
}

export const readAcceptedEpoch = (versionDir: string) => readLongFile(path.join(versionDir, ACCEPTED_EPOCH_FILE));
export const readCurrentEpoch = (versionDir: string) => readLongFile(path.join(versionDir, CURRENT_EPOCH_FILE));
export const writeAcceptedEpoch = (versionDir: string, epoch: bigint) => writeLongFile(path.join(versionDir, ACCEPTED_EPOCH_FILE), epoch);
export const writeCurrentEpoch = (versionDir: string, epoch: bigint) => writeLongFile(path.join(versionDir, CURRENT_EPOCH_FILE), epoch);

/** The server id in dataDir/myid (quorum mode), or undefined when absent. */
export async function readMyid(dataDir: string): Promise<bigint | undefined> {
  return readLongFile(path.join(dataDir, MYID_FILE));
}

export async function writeMyid(dataDir: string, id: bigint): Promise<void> {
  await fs.writeFile(path.join(dataDir, MYID_FILE), `${id}\n`);
}
