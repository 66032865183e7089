/**
 * InterProcessReadWriteLock: Curator's read/write lock on one path. Readers make
 * `_c_<uuid>-__READ__NNNNNNNNNN` and writers `_c_<uuid>-__WRIT__NNNNNNNNNN`, sorted together by
 * sequence: a writer needs to be first; a reader needs no writer ahead of it. The holder of the
 * write lock may also take the read lock (downgrade), as in Curator.
 */
import type { ZooKeeperClient } from '../client/index.js';
import { InterProcessMutex } from './interprocess-mutex.js';
import { LockNodeMissing, standardDriver, type LockDriver } from './lock-internals.js';
import { fixForSorting } from './paths.js';

const READ_LOCK_NAME = '__READ__';
const WRITE_LOCK_NAME = '__WRIT__';
const BOTH = [READ_LOCK_NAME, WRITE_LOCK_NAME];

export class InterProcessReadWriteLock {
  private readonly write: InterProcessMutex;
  private readonly read: InterProcessMutex;

  constructor(client: ZooKeeperClient, path: string, lockData: Buffer | null = null) {
    const writeDriver: LockDriver = { ...standardDriver(WRITE_LOCK_NAME), lockNames: BOTH };
    this.write = new InterProcessMutex(client, path, { lockName: WRITE_LOCK_NAME, maxLeases: 1, driver: writeDriver, data: lockData });
    const write = this.write;
    const readDriver: LockDriver = {
      lockNames: BOTH,
      // Holding the write lock, a reader node takes the writer's sequence so it sorts right after it.
      sortingSequence: () => (write.lockNodePath === null ? null : fixForSorting(write.lockNodePath, WRITE_LOCK_NAME)),
      getsTheLock(sorted, ourName) {
        if (write.isAcquiredInThisProcess()) return { getsTheLock: true };
        let firstWrite = -1;
        for (const [i, node] of sorted.entries()) {
          if (node.includes(WRITE_LOCK_NAME)) {
            if (firstWrite < 0) firstWrite = i;
          } else if (node.startsWith(ourName)) {
            return firstWrite < 0 ? { getsTheLock: true } : { getsTheLock: false, watch: sorted[firstWrite]! };
          }
        }
        throw new LockNodeMissing(ourName);
      },
    };
    this.read = new InterProcessMutex(client, path, { lockName: READ_LOCK_NAME, maxLeases: Number.MAX_SAFE_INTEGER, driver: readDriver, data: lockData });
  }

  readLock(): InterProcessMutex {
    return this.read;
  }

  writeLock(): InterProcessMutex {
    return this.write;
  }
}
