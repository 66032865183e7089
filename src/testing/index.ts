/**
 * `tszk/testing`: real tszk servers for tests, no JVM and no Docker. TestingServer runs in the
 * test process; TestingCluster runs one process per member. Both remove their temp dirs on
 * close() and support `await using`.
 */
export { TestingServer } from './testing-server.js';
export type { TestingServerOptions } from './testing-server.js';
export { TestingCluster } from './testing-cluster.js';
export type { TestingClusterOptions, ClusterMember, MemberRole } from './testing-cluster.js';
export { expireSession, dropConnection } from './sessions.js';
export type { SessionFaultOptions } from './sessions.js';
