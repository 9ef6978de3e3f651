/**
 * The inspection engine: heuristics are data. A rule is a list of facts (a file exists, a
 * file's text matches a regular expression, a registry value matches one) and the fields it
 * sets when all of them hold. Named groups of the regular expressions (`(?<hostname>\S+)`)
 * set the field of that name; `set` adds fixed fields or derives some from the groups.
 * Rules run in order and a field, once set, is kept: earlier rules are stronger evidence,
 * later ones are fallbacks. `{field}` in a path or key is replaced by what is known so far.
 * Facts are text; the caller turns them into typed fields once.
 */

export type Fact =
  /** The path exists (a file or a directory). */
  | { file: string; match?: undefined }
  /** The file exists and its text matches; groups become fields. */
  | { file: string; match: RegExp }
  /** A registry value (`key` below the hive's root) exists, and matches when `match` is given. */
  | { hive: string; key: string; value: string; match?: RegExp };

/** What inspection has learnt so far, by field name ("distro", "majorVersion", "hostname"). */
export type Facts = Record<string, string>;

export interface Rule {
  when: Fact[];
  set?: Facts | ((groups: Facts) => Facts);
}

/** What rules may ask of a guest filesystem (and, for Windows, of its registry). */
export interface FactSource {
  exists(path: string): Promise<boolean>;
  text(path: string): Promise<string | undefined>;
  /** A registry value as text (numbers in decimal, lists joined by newlines), or undefined. */
  registry(hive: string, key: string, value: string): Promise<string | undefined>;
}

/** Replace `{field}` with the field's value; undefined when a named field is not known yet. */
function fill(template: string, known: Facts): string | undefined {
  let missing = false;
  const out = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = known[name];
    if (!v) missing = true;
    return v ?? '';
  });
  return missing ? undefined : out;
}

/** The groups a fact yields when it holds, or undefined when it does not. */
async function check(fact: Fact, src: FactSource, known: Facts): Promise<Facts | undefined> {
  if ('hive' in fact) {
    const key = fill(fact.key, known);
    const v = key === undefined ? undefined : await src.registry(fact.hive, key, fact.value);
    return v === undefined ? undefined : groups(fact.match, v);
  }
  const path = fill(fact.file, known);
  if (path === undefined) return undefined;
  if (!fact.match) return (await src.exists(path)) ? {} : undefined;
  const text = await src.text(path);
  return text === undefined ? undefined : groups(fact.match, text);
}

function groups(re: RegExp | undefined, text: string): Facts | undefined {
  if (!re) return {};
  const m = re.exec(text);
  if (!m) return undefined;
  const out: Facts = {};
  for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) out[k] = v.trim();
  return out;
}

/** Run `rules` over `src`, filling the facts of `known` that are still unset; returns `known`. */
export async function applyRules(rules: readonly Rule[], src: FactSource, known: Facts = {}): Promise<Facts> {
  for (const rule of rules) {
    const found: Facts = {};
    let holds = true;
    for (const fact of rule.when) {
      const g = await check(fact, src, known);
      if (!g) {
        holds = false;
        break;
      }
      Object.assign(found, g);
    }
    if (!holds) continue;
    const fixed = typeof rule.set === 'function' ? rule.set(found) : rule.set ?? {};
    for (const [k, v] of Object.entries({ ...found, ...fixed })) {
      if (v !== undefined && v !== '' && !known[k]) known[k] = v;
    }
  }
  return known;
}
