/** The parts of node-zookeeper-client 1.1 the interop suite uses (the package ships no types). */
declare module 'node-zookeeper-client' {
  import { type EventEmitter } from 'node:events';
  export interface Id {
    scheme: string;
    id: string;
  }
  export class ACL {
    constructor(perms: number, id: Id);
    permission: number;
    id: Id;
  }
  export const Id: { new (scheme: string, id: string): Id };
  export interface Stat {
    version: number;
    cversion: number;
    aversion: number;
    dataLength: number;
    numChildren: number;
    /** jute longs arrive as 8-byte big-endian buffers. */
    ephemeralOwner: Buffer;
    czxid: Buffer;
    mzxid: Buffer;
    pzxid: Buffer;
  }
  export interface Event {
    type: number;
    name: string;
    path: string;
    getType(): number;
    getPath(): string;
  }
  export interface Exception extends Error {
    code: number;
    getCode(): number;
  }
  export interface State {
    name: string;
    code: number;
  }
  export type Cb<T> = (err: Exception | null, v: T) => void;
  export type Watcher = (e: Event) => void;
  export interface Transaction {
    create(path: string, data?: Buffer, acls?: ACL[], mode?: number): Transaction;
    setData(path: string, data: Buffer | null, version?: number): Transaction;
    check(path: string, version?: number): Transaction;
    remove(path: string, version?: number): Transaction;
    commit(cb: (err: Exception | null, results: Array<{ type: number; path?: string; stat?: Stat; err?: number }>) => void): void;
  }
  export interface Client extends EventEmitter {
    connect(): void;
    close(): void;
    getSessionId(): Buffer;
    getState(): State;
    addAuthInfo(scheme: string, auth: Buffer): void;
    create(path: string, data: Buffer | null, acls: ACL[], mode: number, cb: Cb<string>): void;
    remove(path: string, version: number, cb: (err: Exception | null) => void): void;
    setData(path: string, data: Buffer | null, version: number, cb: Cb<Stat>): void;
    getData(path: string, watcher: Watcher | undefined, cb: (err: Exception | null, data: Buffer, stat: Stat) => void): void;
    setACL(path: string, acls: ACL[], version: number, cb: Cb<Stat>): void;
    getACL(path: string, cb: (err: Exception | null, acls: ACL[], stat: Stat) => void): void;
    exists(path: string, watcher: Watcher | undefined, cb: Cb<Stat | null>): void;
    getChildren(path: string, watcher: Watcher | undefined, cb: (err: Exception | null, children: string[], stat: Stat) => void): void;
    transaction(): Transaction;
  }
  export function createClient(connectionString: string, options?: { sessionTimeout?: number; spinDelay?: number; retries?: number }): Client;
  export const CreateMode: { PERSISTENT: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL: number; EPHEMERAL_SEQUENTIAL: number };
  export const Permission: { READ: number; WRITE: number; CREATE: number; DELETE: number; ADMIN: number; ALL: number };
  export const State: { SYNC_CONNECTED: State; DISCONNECTED: State; EXPIRED: State };
  const _default: {
    createClient: typeof createClient;
    ACL: typeof ACL & { OPEN_ACL_UNSAFE: ACL[]; CREATOR_ALL_ACL: ACL[]; READ_ACL_UNSAFE: ACL[] };
    Id: typeof Id;
    CreateMode: typeof CreateMode;
    Permission: typeof Permission;
    State: typeof State;
    Exception: { BAD_VERSION: number; NO_NODE: number };
  };
  export default _default;
}
