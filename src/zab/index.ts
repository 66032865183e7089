export * from './types.js';
export * from './packets.js';
export * from './quorum.js';
export * from './state.js';
export { step, recover, isServing, lastLogged } from './peer.js';
export { voteBetter, NO_VOTE } from './election.js';
export { nextProposalZxid } from './leader.js';
