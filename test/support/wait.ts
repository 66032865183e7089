/** Polls `f` until it gives a value (errors count as not yet); throws naming `what` and the last error after `timeout_ms`. */
export async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeout_ms: number, every_ms = 250): Promise<T> {
  const deadline = Date.now() + timeout_ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, every_ms));
  }
}
