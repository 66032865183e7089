export * from './records.js';
export { type Txn, encodeTxn, decodeTxn } from './txn.js';
export { TxnPreparer, standaloneReconfig, type WriteRequest, type RequestContext } from './prep.js';
export { ZkDatabase } from './database.js';
