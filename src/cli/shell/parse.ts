/**
 * Command lines as zkCli reads them: whitespace-separated words, "double" or 'single' quoted
 * words kept whole (quotes stripped), then per-command options in commons-cli style.
 */
import { CliError } from './errors.js';

/** MyCommandOptions.parseCommand's tokenizer. */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /\s*([^"'\s]\S*|"[^"]*"|'[^']*')\s*/gy;
  let pos = 0;
  while (pos < line.length) {
    re.lastIndex = pos;
    const m = re.exec(line);
    if (m === null) {
      // An unmatched quote: the Java regex skips the character and keeps scanning.
      pos++;
      continue;
    }
    pos = re.lastIndex;
    let v = m[1]!;
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) v = v.slice(1, -1);
    out.push(v);
  }
  return out;
}

export interface OptionSpec {
  /** Option letters without a value. */
  flags?: string;
  /** Option letters that take a value. */
  valued?: string;
  /** Options named by more than one letter (zkCli's reconfig: -file, -members, -add, -remove), each taking a value. */
  longValued?: readonly string[];
}

export interface ParsedArgs {
  /** Non-option words, the command name first (as commons-cli's getArgs() has them in zkCli). */
  args: string[];
  /** Every word, options included. */
  words: number;
  has(opt: string): boolean;
  value(opt: string): string | undefined;
}

/** commons-cli DefaultParser over the words, options anywhere, `-abc` bursts, `-v5` or `-v 5`. */
export function parseOptions(words: string[], spec: OptionSpec): ParsedArgs {
  const flags = spec.flags ?? '';
  const valued = spec.valued ?? '';
  const seen = new Map<string, string | undefined>();
  const args: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') {
      args.push(...words.slice(i + 1));
      break;
    }
    if (w.length < 2 || w[0] !== '-' || i === 0) {
      args.push(w);
      continue;
    }
    const name = w.slice(1);
    if (spec.longValued?.includes(name) === true) {
      const next = words[i + 1];
      if (next === undefined) throw new CliError(`org.apache.commons.cli.MissingArgumentException: Missing argument for option: ${name}`);
      seen.set(name, next);
      i++;
      continue;
    }
    if (valued.includes(name[0]!) && name.length >= 1) {
      const opt = name[0]!;
      if (name.length > 1) {
        seen.set(opt, name.slice(1));
        continue;
      }
      const next = words[i + 1];
      if (next === undefined) throw new CliError(`org.apache.commons.cli.MissingArgumentException: Missing argument for option: ${opt}`);
      seen.set(opt, next);
      i++;
      continue;
    }
    if ([...name].every((ch) => flags.includes(ch))) {
      for (const ch of name) seen.set(ch, undefined);
      continue;
    }
    throw new CliError(`org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: ${w}`);
  }
  return { args, words: words.length, has: (o) => seen.has(o), value: (o) => seen.get(o) };
}
