/** Loads a server with N znodes of DATA_BYTES through one pipelined session (bench/session.ts). */
import { OpCode } from '../src/proto/opcodes.js';
import { BenchSession, writeCreate } from './session.js';

export const DATA_BYTES = 100;
/** Znodes per parent (a realistic fan-out; both servers list such children fine). */
export const FANOUT = 10_000;
/** Requests the loading session keeps outstanding. */
const LOAD_DEPTH = 1000;

/** Creates `n` znodes of DATA_BYTES under /mem through one pipelined session. */
export async function loadZnodes(member: string, n: number): Promise<void> {
  const i = member.lastIndexOf(':');
  const s = await BenchSession.connectRetrying(member.slice(0, i), Number(member.slice(i + 1)), 30_000);
  const data = Buffer.alloc(DATA_BYTES, 7);
  const paths: string[] = ['/mem'];
  for (let p = 0; p * FANOUT < n; p++) paths.push(`/mem/d${p}`);
  const parents = paths.length;
  let sent = 0;
  let done = 0;
  let failed = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (s.outstanding < LOAD_DEPTH && sent < parents + n) {
        // Parents first, one at a time, then the znodes pipelined.
        if (sent < parents && s.outstanding > 0) break;
        const path = sent < parents ? paths[sent]! : `/mem/d${Math.floor((sent - parents) / FANOUT)}/n${sent - parents}`;
        writeCreate(s.begin(OpCode.create), path, sent < parents ? Buffer.alloc(0) : data, 0);
        s.end();
        sent++;
      }
      s.flush();
    };
    s.onReply = (err) => {
      done++;
      if (err !== 0) failed++;
    };
    s.onBatch = () => {
      if (failed > 0) reject(new Error(`${failed} creates failed`));
      else if (done === parents + n) resolve();
      else pump();
    };
    s.onFailure = reject;
    pump();
  });
  await s.close();
}
