export { DataTree } from './dataTree.js';
export { OPEN_ACL_UNSAFE } from './aclCache.js';
export { WatchManager, type Watcher, type WatchedEvent } from './watchManager.js';
export { CONTAINER_EPHEMERAL_OWNER, ttlToEphemeralOwner } from './ephemeralType.js';
export { pathProblem } from './paths.js';
