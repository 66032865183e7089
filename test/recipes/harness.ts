/**
 * What the recipe suites share: a real tszk server that can be restarted on its port and data
 * dir, clients on it, and session expiry as ZooKeeper tests do it (a second client takes over
 * the session and closes it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZooKeeperClient } from '../../src/client/index.js';
import { startTszk, type Tszk } from '../support/tszk.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

export class RecipeServer {
  private server: Tszk | null = null;
  private readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-recipes-'));
  private port = 0;
  /** Each client goes through its own proxy, so one client can be cut off while the others stay. */
  private readonly proxies = new Map<ZooKeeperClient, TcpProxy>();

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = await startTszk({ dataDir: this.dataDir, keepDataDir: true, ...(this.port ? { port: this.port } : {}) });
    this.port = this.server.port;
  }

  /** Kills the server and starts it again on the same port and data: sessions survive, connections do not. */
  async restart(down_ms = 300): Promise<void> {
    await this.server?.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, down_ms));
    await this.start();
  }

  async client(sessionTimeout_ms = 6000, chroot = ''): Promise<ZooKeeperClient> {
    const proxy = await startTcpProxy(() => this.port);
    const c = await ZooKeeperClient.connect(proxy.connectString + chroot, { sessionTimeout_ms });
    this.proxies.set(c, proxy);
    return c;
  }

  /**
   * Expires `c`'s session as ZooKeeper's tests do: while `c` is cut off, another client takes
   * the session over and closes it. Resolves once `c`, reconnected, has heard it expired.
   */
  async expire(c: ZooKeeperClient): Promise<void> {
    const proxy = this.proxies.get(c)!;
    proxy.setState('reset');
    const twin = await ZooKeeperClient.connect(this.connectString, { sessionId: c.sessionId, sessionPasswd: c.sessionPasswd });
    await twin.close();
    proxy.setState('up');
    await waitFor('the session expiry to reach the client', async () => (c.state === 'expired' ? true : undefined), 20_000, 20);
  }

  /** Cuts `c` off from the server without closing its connection (packets vanish) until heal(). */
  partition(c: ZooKeeperClient): void {
    this.proxies.get(c)!.setState('blackhole');
  }

  heal(c: ZooKeeperClient): void {
    this.proxies.get(c)!.setState('up');
  }

  async stop(): Promise<void> {
    await Promise.all([...this.proxies.keys()].map((c) => c.close().catch(() => {})));
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    await this.server?.stop('SIGKILL');
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Resolves when `emitter` emits `event`. */
export function once(emitter: { once(e: string, f: () => void): unknown }, event: string): Promise<void> {
  return new Promise((r) => emitter.once(event, () => r()));
}

export const PROTECTED_LOCK_NODE = /^_c_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-lock-\d{10}$/;
