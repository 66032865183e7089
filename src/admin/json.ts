/**
 * JSON as ZooKeeper's AdminServer writes it (Jackson's default pretty printer): `"key" : value`,
 * two-space indents per object level, arrays inline (`[ 1, 2 ]`, `[ ]`, `{ }`), Java doubles with a
 * decimal point (`0.0`) and longs that may exceed 2^53 (session ids) as plain digits.
 */

/** A value ZooKeeper types as double: written with a decimal point even when integral. */
export class JavaDouble {
  constructor(readonly value: number) {}
}

export type Json = null | boolean | number | bigint | string | JavaDouble | readonly Json[] | { readonly [key: string]: Json };

export function javaDouble(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

export function writeJson(v: Json, depth = 0): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof JavaDouble) return javaDouble(v.value);
  if (Array.isArray(v)) {
    const items = v as readonly Json[];
    return items.length === 0 ? '[ ]' : `[ ${items.map((x) => writeJson(x, depth)).join(', ')} ]`;
  }
  const entries = Object.entries(v as { readonly [key: string]: Json });
  if (entries.length === 0) return '{ }';
  const pad = '  '.repeat(depth + 1);
  return `{\n${entries.map(([k, x]) => `${pad}${JSON.stringify(k)} : ${writeJson(x, depth + 1)}`).join(',\n')}\n${'  '.repeat(depth)}}`;
}
