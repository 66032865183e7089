export * from './types.js';
export * from './packets.js';
export * from './quorum.js';
export * from './state.js';
export { step, recover } from './peer.js';
export { awaitingNextEpoch, nextProposalZxid } from './leader.js';
