/**
 * A JSON reader that keeps what JSON.parse loses and ZooKeeper's answers carry: whether a number
 * was written as an integer (Java long/int) or a double (`0.0`), and long integers past 2^53.
 */
export type TypedJson =
  | { kind: 'object'; entries: Map<string, TypedJson> }
  | { kind: 'array'; items: TypedJson[] }
  | { kind: 'int'; value: bigint }
  | { kind: 'double'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' };

export function parseTypedJson(text: string): TypedJson {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`typed JSON: ${what} at ${i}: ${text.slice(i, i + 40)}`);
  };
  const value = (): TypedJson => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries = new Map<string, TypedJson>();
      ws();
      if (text[i] === '}') return (i++, { kind: 'object', entries });
      for (;;) {
        ws();
        const k = value();
        if (k.kind !== 'string') fail('object key');
        ws();
        if (text[i++] !== ':') fail("':'");
        entries.set((k as { value: string }).value, value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return (i++, { kind: 'object', entries });
        else fail("',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const items: TypedJson[] = [];
      ws();
      if (text[i] === ']') return (i++, { kind: 'array', items });
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return (i++, { kind: 'array', items });
        else fail("',' or ']'");
      }
    }
    if (c === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
      if (!m) return fail('string');
      i += m[0].length;
      return { kind: 'string', value: JSON.parse(m[0]) as string };
    }
    const m = /^(-?\d+)(\.\d+)?([eE][-+]?\d+)?|^true|^false|^null/.exec(text.slice(i));
    if (!m) return fail('value');
    i += m[0].length;
    if (m[0] === 'true' || m[0] === 'false') return { kind: 'bool', value: m[0] === 'true' };
    if (m[0] === 'null') return { kind: 'null' };
    if (m[2] === undefined && m[3] === undefined) return { kind: 'int', value: BigInt(m[0]) };
    return { kind: 'double', value: Number(m[0]) };
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing text');
  return v;
}
