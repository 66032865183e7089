/** Txn records (module org.apache.zookeeper.txn of zookeeper.jute): what goes in the log and over ZAB. */
import { boolean, buffer, int, long, record, ustring, vector, type RecordValue } from '../jute/index.js';
import { ACL } from '../proto/records.js';

export const TxnDigest = record('TxnDigest', { version: int, treeDigest: long });
export type TxnDigest = RecordValue<typeof TxnDigest>;

export const TxnHeader = record('TxnHeader', { clientId: long, cxid: int, zxid: long, time: long, type: int });
export type TxnHeader = RecordValue<typeof TxnHeader>;

export const CreateTxnV0 = record('CreateTxnV0', { path: ustring, data: buffer, acl: vector(ACL), ephemeral: boolean });

export const CreateTxn = record('CreateTxn', {
  path: ustring,
  data: buffer,
  acl: vector(ACL),
  ephemeral: boolean,
  parentCVersion: int,
});
export type CreateTxn = RecordValue<typeof CreateTxn>;

export const CreateTTLTxn = record('CreateTTLTxn', {
  path: ustring,
  data: buffer,
  acl: vector(ACL),
  parentCVersion: int,
  ttl: long,
});
export type CreateTTLTxn = RecordValue<typeof CreateTTLTxn>;

export const CreateContainerTxn = record('CreateContainerTxn', {
  path: ustring,
  data: buffer,
  acl: vector(ACL),
  parentCVersion: int,
});
export type CreateContainerTxn = RecordValue<typeof CreateContainerTxn>;

export const DeleteTxn = record('DeleteTxn', { path: ustring });
export type DeleteTxn = RecordValue<typeof DeleteTxn>;

export const SetDataTxn = record('SetDataTxn', { path: ustring, data: buffer, version: int });
export type SetDataTxn = RecordValue<typeof SetDataTxn>;

export const CheckVersionTxn = record('CheckVersionTxn', { path: ustring, version: int });
export type CheckVersionTxn = RecordValue<typeof CheckVersionTxn>;

export const SetACLTxn = record('SetACLTxn', { path: ustring, acl: vector(ACL), version: int });
export type SetACLTxn = RecordValue<typeof SetACLTxn>;

export const CreateSessionTxn = record('CreateSessionTxn', { timeOut: int });
export type CreateSessionTxn = RecordValue<typeof CreateSessionTxn>;

export const CloseSessionTxn = record('CloseSessionTxn', { paths2Delete: vector(ustring) });
export type CloseSessionTxn = RecordValue<typeof CloseSessionTxn>;

export const ErrorTxn = record('ErrorTxn', { err: int });
export type ErrorTxn = RecordValue<typeof ErrorTxn>;

/** One member of a MultiTxn: its type and its own encoded txn record. */
export const Txn = record('Txn', { type: int, data: buffer });
export type Txn = RecordValue<typeof Txn>;

export const MultiTxn = record('MultiTxn', { txns: vector(Txn) });
export type MultiTxn = RecordValue<typeof MultiTxn>;
