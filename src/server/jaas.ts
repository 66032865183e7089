/**
 * JAAS login configuration files, as ZooKeeper takes them (-Djava.security.auth.login.config):
 *   Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="secret"; };
 * Sections of login modules, each a class, a flag and key=value options, ending with ';'.
 * Comments are // and /* *\/. A file that does not parse names the file, line and problem.
 */

export interface JaasModule {
  className: string;
  flag: string;
  options: ReadonlyMap<string, string>;
}

export class JaasError extends Error {}

type Token = { kind: 'word' | 'string' | 'punct'; text: string; line: number };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  for (let i = 0; i < text.length;) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new JaasError(`line ${line}: unterminated comment`);
      line += text.slice(i, end).split('\n').length - 1;
      i = end + 2;
    } else if (c === '"') {
      let s = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        if (text[i] === '\n') line++;
        s += text[i];
        i++;
      }
      if (i >= text.length) throw new JaasError(`line ${line}: unterminated string`);
      i++;
      out.push({ kind: 'string', text: s, line });
    } else if ('{};='.includes(c)) {
      out.push({ kind: 'punct', text: c, line });
      i++;
    } else {
      let s = '';
      while (i < text.length && !/[\s{};="]/.test(text[i]!)) s += text[i++];
      out.push({ kind: 'word', text: s, line });
    }
  }
  return out;
}

const FLAGS = ['required', 'requisite', 'sufficient', 'optional'];

/** Parses a JAAS file into its sections; throws JaasError on a syntax error. */
export function parseJaas(text: string): Map<string, JaasModule[]> {
  const toks = tokenize(text);
  let p = 0;
  const next = (what: string): Token => {
    const t = toks[p++];
    if (t === undefined) throw new JaasError(`unexpected end of file, expected ${what}`);
    return t;
  };
  const expect = (punct: string): void => {
    const t = next(`'${punct}'`);
    if (t.kind !== 'punct' || t.text !== punct) throw new JaasError(`line ${t.line}: expected '${punct}', found '${t.text}'`);
  };
  const sections = new Map<string, JaasModule[]>();
  while (p < toks.length) {
    const name = next('a section name');
    if (name.kind !== 'word') throw new JaasError(`line ${name.line}: expected a section name, found '${name.text}'`);
    expect('{');
    const modules: JaasModule[] = [];
    for (;;) {
      const t = next(`a login module or '}'`);
      if (t.kind === 'punct' && t.text === '}') break;
      if (t.kind !== 'word') throw new JaasError(`line ${t.line}: expected a login module class, found '${t.text}'`);
      const flag = next('a control flag');
      if (flag.kind !== 'word' || !FLAGS.includes(flag.text.toLowerCase())) throw new JaasError(`line ${flag.line}: '${flag.text}' is not ${FLAGS.join('/')}`);
      const options = new Map<string, string>();
      for (;;) {
        const k = next(`an option or ';'`);
        if (k.kind === 'punct' && k.text === ';') break;
        if (k.kind !== 'word') throw new JaasError(`line ${k.line}: expected an option name, found '${k.text}'`);
        expect('=');
        const v = next('an option value');
        if (v.kind === 'punct') throw new JaasError(`line ${v.line}: expected a value for ${k.text}, found '${v.text}'`);
        options.set(k.text, v.text);
      }
      modules.push({ className: t.text, flag: flag.text.toLowerCase(), options });
    }
    expect(';');
    sections.set(name.text, [...(sections.get(name.text) ?? []), ...modules]);
  }
  return sections;
}

const DIGEST_LOGIN_MODULE = 'org.apache.zookeeper.server.auth.DigestLoginModule';

/** The users (user_<name>="password") a section's DigestLoginModule grants. */
export function digestUsers(modules: readonly JaasModule[]): Map<string, string> {
  const users = new Map<string, string>();
  for (const m of modules) {
    if (m.className !== DIGEST_LOGIN_MODULE) continue;
    for (const [k, v] of m.options) if (k.startsWith('user_')) users.set(k.slice('user_'.length), v);
  }
  return users;
}

/** A client section's DigestLoginModule username and password (zkCli's and our shell's Client section). */
export function digestCredentials(modules: readonly JaasModule[]): { username: string; password: string } | undefined {
  for (const m of modules) {
    const username = m.options.get('username');
    const password = m.options.get('password');
    if (m.className === DIGEST_LOGIN_MODULE && username !== undefined && password !== undefined) return { username, password };
  }
  return undefined;
}
