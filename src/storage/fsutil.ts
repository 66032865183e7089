/** Small durable-file helpers. */
import fs from 'node:fs/promises';
import path from 'node:path';

/** fsync a directory so that file creations, renames and deletions in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Write a whole file so a crash leaves either the old or the new content: temp file, fsync, rename, fsync dir. */
export async function writeFileAtomic(file: string, data: Buffer | string, fsync = true): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    if (fsync) await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
  if (fsync) await fsyncDir(path.dirname(file));
}
