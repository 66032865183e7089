export { DataTree, ROOT_PATH, PROC_PATH, QUOTA_PATH, CONFIG_PATH } from './dataTree.js';
export { DataNode, createStat, emptyStatPersisted } from './dataNode.js';
export { AclCache, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, OPEN_UNSAFE_ACL_INDEX } from './aclCache.js';
export { WatchManager, type Watcher, type WatchedEvent, type WatcherMode } from './watchManager.js';
export { CONTAINER_EPHEMERAL_OWNER, TTL_MAX_MS, ephemeralKind, ttlToEphemeralOwner, ttlOfEphemeralOwner, type EphemeralKind } from './ephemeralType.js';
export { pathProblem, parentKey, parentPath, childName } from './paths.js';
