/**
 * A real standalone tszk server inside the test process: its own dataDir (fsync on, as in
 * production), a client port on 127.0.0.1 picked free at start and kept across restarts, and the
 * AdminServer on a free loopback port (adminPort).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { log } from '../log.js';
import { startServer, type EmbeddedServer, type ZooCfg } from '../server/embed.js';

export interface TestingServerOptions {
  /** Client port (default: a free one, chosen at start and kept by restart()). */
  port?: number;
  /** Data directory (default: a new temp dir that close() removes; one given here is kept). */
  dataDir?: string;
  /** tickTime (default 2000, as ZooKeeper): sessions may last 2 to 20 ticks. */
  tickTime_ms?: number;
  /** More zoo.cfg keys, e.g. `{ extendedTypesEnabled: true }`. */
  config?: ZooCfg;
}

export class TestingServer implements AsyncDisposable {
  private server: EmbeddedServer | undefined;
  private closed = false;

  private constructor(
    /** The client port: the same after restart(). */
    readonly port: number,
    readonly dataDir: string,
    private readonly ownDataDir: boolean,
    private readonly config: ZooCfg,
  ) {}

  /** Starts a server and resolves once it accepts clients. */
  static async start(opts: TestingServerOptions = {}): Promise<TestingServer> {
    // tszk logs JSON lines on stderr; in a test run only warnings and errors are worth showing.
    if (process.env['TSZK_LOG_LEVEL'] === undefined) log.level = 'warn';
    const ownDataDir = opts.dataDir === undefined;
    const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-testing-'));
    const config: ZooCfg = {
      tickTime: opts.tickTime_ms ?? 2000,
      dataDir,
      clientPort: opts.port ?? 0,
      clientPortAddress: '127.0.0.1',
      maxClientCnxns: 0,
      '4lw.commands.whitelist': '*',
      // The AdminServer on a free loopback port (adminPort), never ZooKeeper's 8080.
      'admin.serverAddress': '127.0.0.1',
      'admin.serverPort': 0,
      ...opts.config,
    };
    let server: EmbeddedServer;
    try {
      server = await startServer(config);
    } catch (e) {
      if (ownDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      throw e;
    }
    const ts = new TestingServer(server.clientPort, dataDir, ownDataDir, { ...config, clientPort: server.clientPort });
    ts.server = server;
    return ts;
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The AdminServer's port (a free one, picked anew by each start), undefined while stopped or with admin.enableServer=false. */
  get adminPort(): number | undefined {
    return this.server?.adminPort;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Stops serving (clients see the connection drop); the data and the port stay for restart(). */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await s?.close();
  }

  /** Stops if running, then starts again on the same port from the same dataDir (sessions included). */
  async restart(): Promise<void> {
    if (this.closed) throw new Error('TestingServer.restart(): the server was closed');
    await this.stop();
    this.server = await startServer(this.config);
  }

  /** Stops and removes the temp dataDir. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
    if (this.ownDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
