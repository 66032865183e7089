/**
 * Child process for the server crash test: the standalone server (src/server) on the storage
 * layer (openDatabase + FileTxnSink) — the wiring `tszk server` gets. Prints `ready <port>`.
 *
 *   node --import tsx test/storage/serverChild.ts <dataDir> <snapCount>
 */
import { defaultServerOptions } from '../../src/server/options.js';
import { startStandaloneServer } from '../../src/server/standalone.js';
import { openDatabase, storageOptionsFrom } from '../../src/storage/database.js';

async function main(): Promise<void> {
  const [dataDir, snapCount] = process.argv.slice(2);
  const opts = defaultServerOptions({ dataDir: dataDir!, clientPort: 0, clientPortAddress: '127.0.0.1', snapCount: Number(snapCount ?? 1000), maxClientCnxns: 0 });
  const { db, sink } = await openDatabase({ ...storageOptionsFrom(opts), preAllocSize_bytes: 1024 * 1024 });
  const server = await startStandaloneServer(opts, { db, sink });
  process.stdout.write(`ready ${server.port}\n`);
  // For benchmarks: report the log's counters and stop.
  process.once('SIGTERM', () => {
    process.stdout.write(`stats ${JSON.stringify(sink.stats)}\n`, () => process.exit(0));
  });
}

void main();
