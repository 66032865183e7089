/**
 * Work held until the current event-loop turn ends: output corked so a turn's packets leave in
 * one syscall. It runs early when the loop is about to block (an inline txn log write), so a
 * leader's PROPOSALs reach the followers while its own disk write is under way, not after it.
 */
const held: (() => void)[] = [];
let scheduled = false;

export function atTurnEnd(fn: () => void): void {
  held.push(fn);
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    runTurnEnd();
  });
}

/** Runs what is held now (before blocking); the scheduled run then finds nothing. */
export function runTurnEnd(): void {
  for (const fn of held.splice(0)) fn();
}
