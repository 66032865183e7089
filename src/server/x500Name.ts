/**
 * A certificate's subject as Java's X500Principal.getName() writes it (RFC 2253 form): the RDNs
 * last to first, joined by ',', multi-valued ones by '+'; the attribute types Java names in that
 * form as keywords, every other one as its dotted OID with the value as '#' and the hex of its
 * DER; string values with ,=+<>#;"\ escaped by a backslash and leading or trailing spaces too.
 * The X509AuthenticationProvider ids (x509:<subject>) must match these bytes for ACLs to carry over.
 */

interface Tlv {
  tag: number;
  /** The whole element (tag, length, content). */
  start: number;
  contentStart: number;
  end: number;
}

class DerError extends Error {}

function readTlv(b: Buffer, at: number): Tlv {
  if (at + 2 > b.length) throw new DerError('truncated DER');
  const tag = b[at]!;
  let len = b[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > b.length) throw new DerError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i]!;
    p += n;
  }
  if (p + len > b.length) throw new DerError('truncated DER');
  return { tag, start: at, contentStart: p, end: p + len };
}

function children(b: Buffer, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.contentStart; p < t.end;) {
    const c = readTlv(b, p);
    out.push(c);
    p = c.end;
  }
  return out;
}

function oidString(b: Buffer, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let p = t.contentStart; p < t.end; p++) {
    v = v * 128 + (b[p]! & 0x7f);
    if ((b[p]! & 0x80) === 0) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** The keywords Java's AVAKeyword table gives in RFC 2253 form. */
const RFC2253_KEYWORDS: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.9', 'STREET'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
]);

// DER string tags Java writes as text in RFC 2253 form (AVA.isDerString, non-canonical).
const UTF8_STRING = 0x0c;
const PRINTABLE_STRING = 0x13;
const T61_STRING = 0x14;
const IA5_STRING = 0x16;
const GENERAL_STRING = 0x1b;
const BMP_STRING = 0x1e;
const STRING_TAGS = new Set([UTF8_STRING, PRINTABLE_STRING, T61_STRING, IA5_STRING, GENERAL_STRING, BMP_STRING]);
const ESCAPED = ',=+<>#;"\\';

function decodeString(b: Buffer, t: Tlv): string {
  const bytes = b.subarray(t.contentStart, t.end);
  if (t.tag === BMP_STRING) {
    let s = '';
    for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes.readUInt16BE(i));
    return s;
  }
  // Java's DerValue.getAsString: T61 as ISO-8859-1, IA5/Printable/General as ASCII, UTF8 as UTF-8.
  return t.tag === UTF8_STRING ? bytes.toString('utf8') : bytes.toString('latin1');
}

function avaString(b: Buffer, ava: Tlv): string {
  const [typeTlv, valueTlv] = children(b, ava);
  if (typeTlv === undefined || valueTlv === undefined || typeTlv.tag !== 0x06) throw new DerError('bad AttributeTypeAndValue');
  const oid = oidString(b, typeTlv);
  const keyword = RFC2253_KEYWORDS.get(oid);
  if (keyword === undefined || !STRING_TAGS.has(valueTlv.tag)) return `${keyword ?? oid}=#${b.subarray(valueTlv.start, valueTlv.end).toString('hex')}`;
  let v = '';
  for (const c of decodeString(b, valueTlv)) {
    if (ESCAPED.includes(c)) v += `\\${c}`;
    else if (c === '\u0000') v += '\\00';
    else v += c;
  }
  // Leading and trailing spaces (and CRs) are escaped one by one.
  const chars = [...v];
  let lead = 0;
  while (lead < chars.length && (chars[lead] === ' ' || chars[lead] === '\r')) lead++;
  let trail = chars.length - 1;
  while (trail >= 0 && (chars[trail] === ' ' || chars[trail] === '\r')) trail--;
  return `${keyword}=${chars.map((c, i) => (i < lead || i > trail ? `\\${c}` : c)).join('')}`;
}

/** The subject Name of a DER certificate, in X500Principal.getName() form; undefined when it does not parse. */
export function certificateSubject(cert: Buffer): string | undefined {
  try {
    const certificate = readTlv(cert, 0);
    const tbs = children(cert, certificate)[0];
    if (tbs === undefined) return undefined;
    const fields = children(cert, tbs);
    // [0] version is optional; then serialNumber, signature, issuer, validity, subject.
    const subject = fields[fields[0]?.tag === 0xa0 ? 5 : 4];
    if (subject === undefined || subject.tag !== 0x30) return undefined;
    return children(cert, subject)
      .reverse()
      .map((rdn) => {
        return children(cert, rdn)
          .map((ava) => avaString(cert, ava))
          .join('+');
      })
      .join(',');
  } catch (e) {
    if (e instanceof DerError) return undefined;
    throw e;
  }
}
