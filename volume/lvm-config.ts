/**
 * LVM2's text format (lib/config in lvm2): `key = value`, `name { … }`, arrays `[a, b]`,
 * "strings" with backslash escapes, integers, and `#` comments. A small tolerant parser that
 * reports the line of what it cannot read; integers stay BigInt (sector counts can be large).
 */

export type ConfigScalar = string | bigint | number;
export type ConfigValue = ConfigScalar | ConfigScalar[];

export interface ConfigSection {
  values: Map<string, ConfigValue>;
  /** Subsections in the order they appear. */
  sections: Map<string, ConfigSection>;
}

/** Thrown with the 1-based line of the problem; the caller adds device and offset. */
export class ConfigSyntaxError extends Error {
  constructor(readonly line: number, detail: string) {
    super(`line ${line}: ${detail}`);
  }
}

/** A token as an error message quotes it: one line (a string token may span lines) and short. */
function shown(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** VG metadata nests three levels deep; anything far deeper is damage, not structure. */
const MAX_DEPTH = 32;

type Token =
  | { kind: 'punct'; text: '{' | '}' | '[' | ']' | ',' | '='; line: number }
  | { kind: 'string'; text: string; line: number }
  | { kind: 'word'; text: string; line: number }
  | { kind: 'end'; text: ''; line: number };

const PUNCT = new Set(['{', '}', '[', ']', ',', '=']);
const WORD_END = /[\s{}[\],=#"']/;

class Lexer {
  private pos = 0;
  private line = 1;
  private peeked: Token | undefined;

  constructor(private readonly text: string) {}

  peek(): Token {
    this.peeked ??= this.scan();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  private scan(): Token {
    const s = this.text;
    for (;;) {
      const c = s[this.pos];
      if (c === undefined) return { kind: 'end', text: '', line: this.line };
      if (c === '\n') this.line++;
      if (c === '#') {
        const eol = s.indexOf('\n', this.pos);
        this.pos = eol < 0 ? s.length : eol;
      } else if (/\s/.test(c)) {
        this.pos++;
      } else {
        break;
      }
    }
    const line = this.line;
    const c = s[this.pos]!;
    if (PUNCT.has(c)) {
      this.pos++;
      return { kind: 'punct', text: c as '{', line };
    }
    if (c === '"' || c === "'") return { kind: 'string', text: this.quoted(c), line };
    const start = this.pos;
    while (this.pos < s.length && !WORD_END.test(s[this.pos]!)) this.pos++;
    return { kind: 'word', text: s.slice(start, this.pos), line };
  }

  /** A quoted string; double quotes take backslash escapes, single quotes none. */
  private quoted(quote: string): string {
    const s = this.text;
    const line = this.line;
    let out = '';
    this.pos++;
    for (;;) {
      const c = s[this.pos++];
      if (c === undefined) throw new ConfigSyntaxError(line, 'unterminated string');
      if (c === quote) return out;
      if (c === '\n') this.line++;
      if (c === '\\' && quote === '"' && this.pos < s.length) {
        out += s[this.pos++];
      } else {
        out += c;
      }
    }
  }
}

export function parseConfig(text: string): ConfigSection {
  const lex = new Lexer(text);
  const root = parseItems(lex, 0);
  const t = lex.next();
  if (t.kind !== 'end') throw new ConfigSyntaxError(t.line, `unexpected ${shown(t.text)}`);
  return root;
}

function parseItems(lex: Lexer, depth: number): ConfigSection {
  if (depth > MAX_DEPTH) throw new ConfigSyntaxError(lex.peek().line, `sections nested deeper than ${MAX_DEPTH}`);
  const section: ConfigSection = { values: new Map(), sections: new Map() };
  for (;;) {
    const t = lex.peek();
    if (t.kind === 'end' || (t.kind === 'punct' && t.text === '}')) return section;
    lex.next();
    if (t.kind !== 'word' && t.kind !== 'string') throw new ConfigSyntaxError(t.line, `expected a name, found ${shown(t.text)}`);
    const op = lex.next();
    if (op.kind === 'punct' && op.text === '=') {
      section.values.set(t.text, parseValue(lex));
    } else if (op.kind === 'punct' && op.text === '{') {
      section.sections.set(t.text, parseItems(lex, depth + 1));
      const close = lex.next();
      if (close.kind !== 'punct' || close.text !== '}') throw new ConfigSyntaxError(close.line, `section ${shown(t.text)} is not closed`);
    } else {
      throw new ConfigSyntaxError(op.line, `expected "=" or "{" after ${shown(t.text)}`);
    }
  }
}

function parseValue(lex: Lexer): ConfigValue {
  const t = lex.peek();
  if (t.kind !== 'punct' || t.text !== '[') return parseScalar(lex);
  lex.next();
  const items: ConfigScalar[] = [];
  for (;;) {
    const u = lex.peek();
    if (u.kind === 'punct' && u.text === ']') {
      lex.next();
      return items;
    }
    items.push(parseScalar(lex));
    const sep = lex.next();
    if (sep.kind === 'punct' && sep.text === ']') return items;
    if (sep.kind !== 'punct' || sep.text !== ',') throw new ConfigSyntaxError(sep.line, `expected "," or "]" in an array, found ${shown(sep.text)}`);
  }
}

function parseScalar(lex: Lexer): ConfigScalar {
  const t = lex.next();
  if (t.kind === 'string') return t.text;
  if (t.kind === 'word') {
    if (/^-?\d+$/.test(t.text)) return BigInt(t.text);
    if (/^-?\d*\.\d+$/.test(t.text)) return Number(t.text);
  }
  throw new ConfigSyntaxError(t.line, `expected a value, found ${shown(t.text)}`);
}
