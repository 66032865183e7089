import type { Message } from '../zab/packets.js';
import type { Action, Event } from '../zab/state.js';
import { zxidStr } from '../zab/types.js';
import { NO_VOTE } from '../zab/election.js';

/** A bounded ring of what happened, formatted only when a run fails. */
export type TraceItem = { at: number; sid: number; what: Event | Action | string };

export class Trace {
  private items: TraceItem[] = [];
  private next = 0;
  constructor(private readonly size_max: number) {}

  add(at: number, sid: number, what: Event | Action | string): void {
    if (this.size_max === 0) return;
    const it = { at, sid, what };
    if (this.items.length < this.size_max) this.items.push(it);
    else this.items[this.next] = it;
    this.next = (this.next + 1) % this.size_max;
  }

  lines(): string[] {
    const ordered = this.items.length < this.size_max ? this.items : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
    return ordered.map((i) => `${String(i.at).padStart(7)}ms  s${i.sid}  ${typeof i.what === 'string' ? i.what : fmt(i.what)}`);
  }
}

export function fmtMessage(m: Message): string {
  switch (m.type) {
    case 'NOTIFICATION': {
      const leader = m.leader === NO_VOTE ? '-' : String(m.leader);
      return `vote(${m.state} leader=${leader} zxid=${m.zxid === NO_VOTE ? '-' : zxidStr(m.zxid)} round=${m.electionEpoch} peerEpoch=${m.peerEpoch})`;
    }
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
      return `${m.type}(acceptedEpoch=${m.acceptedEpoch})`;
    case 'LEADERINFO':
      return `LEADERINFO(epoch=${m.newEpoch})`;
    case 'NEWEPOCH':
      return `NEWEPOCH(epoch=${m.epoch})`;
    case 'ACKEPOCH':
      return `ACKEPOCH(currentEpoch=${m.currentEpoch} last=${zxidStr(m.lastZxid)})`;
    case 'UPTODATE':
    case 'SYNC':
    case 'REVALIDATE':
      return m.type;
    case 'REQUEST':
      return m.sync ? 'REQUEST(sync)' : 'REQUEST';
    default:
      return `${m.type}(${zxidStr(m.zxid)})`;
  }
}

function fmt(w: Event | Action): string {
  switch (w.type) {
    case 'message':
      return `<- s${w.from} ${fmtMessage(w.msg)}`;
    case 'send':
      return `-> s${w.to} ${fmtMessage(w.msg)}`;
    case 'disconnected':
      return `connection to s${w.peer} closed`;
    case 'logDurable':
      return `log durable through ${zxidStr(w.zxid)}`;
    case 'propose':
    case 'request':
    case 'forwardedRequest':
      return w.type;
    case 'role':
      return `becomes ${w.role}${w.leader !== null ? ` (leader s${w.leader})` : ''}`;
    case 'established':
      return `ESTABLISHED epoch ${w.epoch}`;
    case 'serving':
      return w.serving ? 'starts serving' : 'stops serving';
    case 'apply':
      return `apply ${zxidStr(w.txn.zxid)}`;
    case 'truncate':
      return `truncate log after ${zxidStr(w.zxid)}`;
    case 'takeSnapshot':
    case 'loadSnapshot':
    case 'sendSnapshot':
      return `${w.type} ${zxidStr(w.zxid)}`;
    case 'persistAcceptedEpoch':
    case 'persistCurrentEpoch':
      return `${w.type} ${w.epoch}`;
    default:
      return w.type;
  }
}
