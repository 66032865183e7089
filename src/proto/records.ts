/**
 * Client-side records of ZooKeeper 3.8 (modules org.apache.zookeeper.data and .proto of
 * zookeeper.jute), one declarative schema each. Field order is wire order.
 */
import { boolean, buffer, int, long, record, ustring, vector, type RecordValue } from '../jute/index.js';

export const Id = record('Id', { scheme: ustring, id: ustring });
export type Id = RecordValue<typeof Id>;

export const ACL = record('ACL', { perms: int, id: Id });
export type ACL = RecordValue<typeof ACL>;

export const Stat = record('Stat', {
  czxid: long,
  mzxid: long,
  ctime: long,
  mtime: long,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: long,
  dataLength: int,
  numChildren: int,
  pzxid: long,
});
export type Stat = RecordValue<typeof Stat>;

export const StatPersisted = record('StatPersisted', {
  czxid: long,
  mzxid: long,
  ctime: long,
  mtime: long,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: long,
  pzxid: long,
});
export type StatPersisted = RecordValue<typeof StatPersisted>;

export const ClientInfo = record('ClientInfo', { authScheme: ustring, user: ustring });
export type ClientInfo = RecordValue<typeof ClientInfo>;

export const ConnectRequest = record('ConnectRequest', {
  protocolVersion: int,
  lastZxidSeen: long,
  timeOut: int,
  sessionId: long,
  passwd: buffer,
  readOnly: boolean,
});
export type ConnectRequest = RecordValue<typeof ConnectRequest>;

export const ConnectResponse = record('ConnectResponse', {
  protocolVersion: int,
  timeOut: int,
  sessionId: long,
  passwd: buffer,
  readOnly: boolean,
});
export type ConnectResponse = RecordValue<typeof ConnectResponse>;

export const SetWatches = record('SetWatches', {
  relativeZxid: long,
  dataWatches: vector(ustring),
  existWatches: vector(ustring),
  childWatches: vector(ustring),
});
export type SetWatches = RecordValue<typeof SetWatches>;

export const SetWatches2 = record('SetWatches2', {
  relativeZxid: long,
  dataWatches: vector(ustring),
  existWatches: vector(ustring),
  childWatches: vector(ustring),
  persistentWatches: vector(ustring),
  persistentRecursiveWatches: vector(ustring),
});
export type SetWatches2 = RecordValue<typeof SetWatches2>;

export const RequestHeader = record('RequestHeader', { xid: int, type: int });
export type RequestHeader = RecordValue<typeof RequestHeader>;

export const MultiHeader = record('MultiHeader', { type: int, done: boolean, err: int });
export type MultiHeader = RecordValue<typeof MultiHeader>;

export const AuthPacket = record('AuthPacket', { type: int, scheme: ustring, auth: buffer });
export type AuthPacket = RecordValue<typeof AuthPacket>;

export const ReplyHeader = record('ReplyHeader', { xid: int, zxid: long, err: int });
export type ReplyHeader = RecordValue<typeof ReplyHeader>;

export const GetDataRequest = record('GetDataRequest', { path: ustring, watch: boolean });
export type GetDataRequest = RecordValue<typeof GetDataRequest>;

export const SetDataRequest = record('SetDataRequest', { path: ustring, data: buffer, version: int });
export type SetDataRequest = RecordValue<typeof SetDataRequest>;

export const ReconfigRequest = record('ReconfigRequest', {
  joiningServers: ustring,
  leavingServers: ustring,
  newMembers: ustring,
  curConfigId: long,
});
export type ReconfigRequest = RecordValue<typeof ReconfigRequest>;

export const SetDataResponse = record('SetDataResponse', { stat: Stat });
export type SetDataResponse = RecordValue<typeof SetDataResponse>;

export const GetSASLRequest = record('GetSASLRequest', { token: buffer });
export const SetSASLResponse = record('SetSASLResponse', { token: buffer });

export const CreateRequest = record('CreateRequest', {
  path: ustring,
  data: buffer,
  acl: vector(ACL),
  flags: int,
});
export type CreateRequest = RecordValue<typeof CreateRequest>;

export const CreateTTLRequest = record('CreateTTLRequest', {
  path: ustring,
  data: buffer,
  acl: vector(ACL),
  flags: int,
  ttl: long,
});
export type CreateTTLRequest = RecordValue<typeof CreateTTLRequest>;

export const DeleteRequest = record('DeleteRequest', { path: ustring, version: int });
export type DeleteRequest = RecordValue<typeof DeleteRequest>;

export const GetChildrenRequest = record('GetChildrenRequest', { path: ustring, watch: boolean });
export type GetChildrenRequest = RecordValue<typeof GetChildrenRequest>;

export const GetAllChildrenNumberRequest = record('GetAllChildrenNumberRequest', { path: ustring });
export type GetAllChildrenNumberRequest = RecordValue<typeof GetAllChildrenNumberRequest>;

export const GetChildren2Request = record('GetChildren2Request', { path: ustring, watch: boolean });
export type GetChildren2Request = RecordValue<typeof GetChildren2Request>;

export const CheckVersionRequest = record('CheckVersionRequest', { path: ustring, version: int });
export type CheckVersionRequest = RecordValue<typeof CheckVersionRequest>;

export const SyncRequest = record('SyncRequest', { path: ustring });
export type SyncRequest = RecordValue<typeof SyncRequest>;

export const SyncResponse = record('SyncResponse', { path: ustring });
export type SyncResponse = RecordValue<typeof SyncResponse>;

export const GetACLRequest = record('GetACLRequest', { path: ustring });
export type GetACLRequest = RecordValue<typeof GetACLRequest>;

export const SetACLRequest = record('SetACLRequest', { path: ustring, acl: vector(ACL), version: int });
export type SetACLRequest = RecordValue<typeof SetACLRequest>;

export const SetACLResponse = record('SetACLResponse', { stat: Stat });
export type SetACLResponse = RecordValue<typeof SetACLResponse>;

export const AddWatchRequest = record('AddWatchRequest', { path: ustring, mode: int });
export type AddWatchRequest = RecordValue<typeof AddWatchRequest>;

export const WatcherEvent = record('WatcherEvent', { type: int, state: int, path: ustring });
export type WatcherEvent = RecordValue<typeof WatcherEvent>;

export const ErrorResponse = record('ErrorResponse', { err: int });
export type ErrorResponse = RecordValue<typeof ErrorResponse>;

export const CreateResponse = record('CreateResponse', { path: ustring });
export type CreateResponse = RecordValue<typeof CreateResponse>;

export const Create2Response = record('Create2Response', { path: ustring, stat: Stat });
export type Create2Response = RecordValue<typeof Create2Response>;

export const ExistsRequest = record('ExistsRequest', { path: ustring, watch: boolean });
export type ExistsRequest = RecordValue<typeof ExistsRequest>;

export const ExistsResponse = record('ExistsResponse', { stat: Stat });
export type ExistsResponse = RecordValue<typeof ExistsResponse>;

export const GetDataResponse = record('GetDataResponse', { data: buffer, stat: Stat });
export type GetDataResponse = RecordValue<typeof GetDataResponse>;

export const GetChildrenResponse = record('GetChildrenResponse', { children: vector(ustring) });
export type GetChildrenResponse = RecordValue<typeof GetChildrenResponse>;

export const GetAllChildrenNumberResponse = record('GetAllChildrenNumberResponse', { totalNumber: int });
export type GetAllChildrenNumberResponse = RecordValue<typeof GetAllChildrenNumberResponse>;

export const GetChildren2Response = record('GetChildren2Response', { children: vector(ustring), stat: Stat });
export type GetChildren2Response = RecordValue<typeof GetChildren2Response>;

export const GetACLResponse = record('GetACLResponse', { acl: vector(ACL), stat: Stat });
export type GetACLResponse = RecordValue<typeof GetACLResponse>;

export const CheckWatchesRequest = record('CheckWatchesRequest', { path: ustring, type: int });
export type CheckWatchesRequest = RecordValue<typeof CheckWatchesRequest>;

export const RemoveWatchesRequest = record('RemoveWatchesRequest', { path: ustring, type: int });
export type RemoveWatchesRequest = RecordValue<typeof RemoveWatchesRequest>;

export const GetEphemeralsRequest = record('GetEphemeralsRequest', { prefixPath: ustring });
export type GetEphemeralsRequest = RecordValue<typeof GetEphemeralsRequest>;

export const GetEphemeralsResponse = record('GetEphemeralsResponse', { ephemerals: vector(ustring) });
export type GetEphemeralsResponse = RecordValue<typeof GetEphemeralsResponse>;

/**
 * tszk only (TszkOpCode.getChildrenPage / getDataPage): a read from `offset` (a child's index in
 * the listing order, or a byte of the data) of at most `maxBytes` (the encoded names, or the
 * data bytes). The answers are GetChildren2Response and GetDataResponse, whose Stat tells the
 * client how far there is to go (numChildren, dataLength) and whether the node changed between
 * pages (cversion, mzxid).
 */
export const PagedReadRequest = record('PagedReadRequest', { path: ustring, watch: boolean, offset: int, maxBytes: int });
export type PagedReadRequest = RecordValue<typeof PagedReadRequest>;

export const WhoAmIResponse = record('WhoAmIResponse', { clientInfo: vector(ClientInfo) });
export type WhoAmIResponse = RecordValue<typeof WhoAmIResponse>;

/**
 * Module server.quorum: the quorum SASL exchange (QuorumAuth), written bare (no length prefix) on
 * an election or quorum connection before anything else; magic 0x5f2435013501edcc, status 0 in
 * progress, 1 success, -1 error.
 */
export const QuorumAuthPacket = record('QuorumAuthPacket', { magic: long, status: int, token: buffer });
export type QuorumAuthPacket = RecordValue<typeof QuorumAuthPacket>;
