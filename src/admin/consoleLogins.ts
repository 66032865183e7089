/**
 * The web console's logins: a digest login is a real ZooKeeper session of this member's own
 * (ZooKeeperClient to its client port, addAuth digest), so every write the console makes is
 * decided by ZooKeeper's ACLs exactly as for any client. A login idle for LOGIN_IDLE_MS is closed.
 */
import { randomBytes } from 'node:crypto';
import { ZooKeeperClient } from '../client/index.js';
import type { Id } from '../proto/records.js';
import type { MemberAdminSource } from '../server/adminSource.js';
import { generateDigest } from '../txn/auth.js';

const LOGIN_IDLE_MS = 15 * 60_000;

export interface ConsoleLogin {
  readonly user: string;
  readonly client: ZooKeeperClient;
  /** The digest id ZooKeeper's ACLs name this user by. */
  readonly authInfo: readonly Id[];
  lastUsed_ms: number;
}

export class ConsoleLogins {
  private readonly logins = new Map<string, ConsoleLogin>();

  constructor(private readonly member: MemberAdminSource) {}

  /** Opens a session on this member and authenticates it; returns the login's token. */
  async login(user: string, password: string): Promise<string> {
    const o = this.member.options;
    const host = o.clientPortAddress === '0.0.0.0' || o.clientPortAddress === '' || o.clientPortAddress === '::' ? '127.0.0.1' : o.clientPortAddress;
    const client = await ZooKeeperClient.connect(`${host}:${o.clientPort}`, { sessionTimeout_ms: 30_000 });
    try {
      await client.addAuth('digest', `${user}:${password}`);
    } catch (e) {
      await client.close();
      throw e;
    }
    const token = randomBytes(24).toString('base64url');
    this.logins.set(token, { user, client, authInfo: [{ scheme: 'digest', id: generateDigest(`${user}:${password}`) }], lastUsed_ms: Date.now() });
    return token;
  }

  get(token: string | undefined): ConsoleLogin | undefined {
    if (token === undefined) return undefined;
    const l = this.logins.get(token);
    if (l === undefined) return undefined;
    if (Date.now() - l.lastUsed_ms > LOGIN_IDLE_MS) {
      void this.logout(token);
      return undefined;
    }
    l.lastUsed_ms = Date.now();
    return l;
  }

  async logout(token: string): Promise<void> {
    const l = this.logins.get(token);
    this.logins.delete(token);
    await l?.client.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.logins.keys()].map((t) => this.logout(t)));
  }
}
