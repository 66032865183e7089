import { JuteReader } from './reader.js';
import { JuteWriter } from './writer.js';

/**
 * A jute field type: how one value is read and written. Records are built from these
 * declaratively (see `record`), so every record shares one codec.
 */
export interface FieldType<T> {
  readonly jute: string;
  read(r: JuteReader): T;
  write(w: JuteWriter, v: T): void;
}

export const int: FieldType<number> = {
  jute: 'int',
  read: (r) => r.int(),
  write: (w, v) => w.int(v),
};

export const long: FieldType<bigint> = {
  jute: 'long',
  read: (r) => r.long(),
  write: (w, v) => w.long(v),
};

export const boolean: FieldType<boolean> = {
  jute: 'boolean',
  read: (r) => r.boolean(),
  write: (w, v) => w.boolean(v),
};

/** jute ustring; a null string (length -1) reads as ''. */
export const ustring: FieldType<string> = {
  jute: 'ustring',
  read: (r) => r.ustring(),
  write: (w, v) => w.ustring(v),
};

/** jute buffer; null (length -1) is kept distinct from empty, as ZooKeeper keeps it. */
export const buffer: FieldType<Buffer | null> = {
  jute: 'buffer',
  read: (r) => r.buffer(),
  write: (w, v) => w.buffer(v),
};

/** jute vector; a null vector (count -1) reads as empty. */
export function vector<T>(item: FieldType<T>): FieldType<T[]> {
  return {
    jute: `vector<${item.jute}>`,
    read(r) {
      const n = r.length();
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(item.read(r));
      return out;
    },
    write(w, v) {
      w.int(v.length);
      for (const x of v) item.write(w, x);
    },
  };
}

// Method syntax in FieldType makes `write` bivariant, so any FieldType<T> fits FieldType<unknown>.
type Fields = Record<string, FieldType<unknown>>;
export type ValueOf<F extends Fields> = { [K in keyof F]: F[K] extends FieldType<infer T> ? T : never };

export interface RecordType<T> extends FieldType<T> {
  readonly name: string;
  readonly fieldNames: readonly string[];
  encode(v: T): Buffer;
  decode(buf: Buffer): T;
}

/** Declares a jute record: fields in wire order. The TypeScript type follows from the schema. */
export function record<F extends Fields>(name: string, fields: F): RecordType<ValueOf<F>> {
  const names = Object.keys(fields);
  const types = names.map((n) => fields[n]!);
  const count = names.length;
  const rec: RecordType<ValueOf<F>> = {
    jute: name,
    name,
    fieldNames: names,
    read(r) {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < count; i++) o[names[i]!] = types[i]!.read(r);
      return o as ValueOf<F>;
    },
    write(w, v) {
      const o = v as Record<string, unknown>;
      for (let i = 0; i < count; i++) types[i]!.write(w, o[names[i]!]);
    },
    encode(v) {
      const w = new JuteWriter();
      rec.write(w, v);
      return Buffer.from(w.bytes());
    },
    decode(buf) {
      return rec.read(new JuteReader(buf));
    },
  };
  return rec;
}

export type RecordValue<R> = R extends RecordType<infer T> ? T : never;
