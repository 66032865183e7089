export * from './records.js';
export { type Txn, type TxnBody, encodeTxn, decodeTxn, writeTxn, encodeTxnBody, readTxnBody, writeTxnBody } from './txn.js';
export { TxnPreparer, sequenceSuffix, OUTSTANDING_CHANGES_MAX, type WriteRequest, type RequestContext, type SessionView, type PrepOptions } from './prep.js';
export { applyTxn, type ProcessTxnResult } from './apply.js';
export { ZkDatabase } from './database.js';
export { checkACL, hasPermission, fixupACL, authenticate, addAuthInfo, generateDigest, userName, normalizeClientAddress, type AclPolicy } from './auth.js';
