/**
 * Registry test helpers: a model of a hive's tree, the .reg text `hivexregedit --merge` reads,
 * and the text `hivexregedit --export` writes, made from the model, from our reader, and by
 * hivex itself, so the three can be compared as strings.
 */
import { chmod, copyFile, rm, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hive, HiveKey } from '../../../inspect/hive/hive.js';
import { fixture } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';

/** The empty hive from the project's shared test data (a copy lives next to this file's source). */
export const EMPTY_HIVE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'test', 'inspect', 'hive', 'empty-hive');

export interface MValue {
  name: string;
  type: number;
  data: Buffer;
}
export interface MKey {
  name: string;
  values: Map<string, MValue>;
  children: Map<string, MKey>;
}

/** Names compare as Windows does: upcased. */
export const fold = (s: string): string => s.toUpperCase();

export function mkey(name: string): MKey {
  return { name, values: new Map(), children: new Map() };
}

/** The key at `path` (components), created with its parents when `create`. */
export function mpath(root: MKey, path: string[], create = false): MKey | undefined {
  let k = root;
  for (const p of path) {
    let c = k.children.get(fold(p));
    if (!c) {
      if (!create) return undefined;
      c = mkey(p);
      k.children.set(fold(p), c);
    }
    k = c;
  }
  return k;
}

export function setMValue(k: MKey, name: string, type: number, data: Buffer): void {
  const old = k.values.get(fold(name));
  k.values.set(fold(name), { name: old?.name ?? name, type, data });
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const quote = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const hex = (b: Buffer): string => b.toString('hex').replace(/..(?!$)/g, '$&,');

function valueLine(v: MValue): string {
  const lhs = v.name === '' ? '@=' : `"${quote(v.name)}"=`;
  if (v.type === 4 && v.data.length === 4) return `${lhs}dword:${v.data.readUInt32LE(0).toString(16).padStart(8, '0')}`;
  return `${lhs}hex(${v.type.toString(16)}):${hex(v.data)}`;
}

/** The text `hivexregedit --export HIVE '\'` prints for this tree (its sort order: Perl's cmp). */
export function renderExport(root: MKey): string {
  const out: string[] = ['Windows Registry Editor Version 5.00', ''];
  const walk = (k: MKey, path: string): void => {
    out.push(`[${path || '\\'}]`);
    for (const v of [...k.values.values()].sort((a, b) => cmp(a.name, b.name))) out.push(valueLine(v));
    out.push('');
    for (const c of [...k.children.values()].sort((a, b) => cmp(a.name, b.name))) walk(c, `${path}\\${c.name}`);
  };
  walk(root, '');
  return out.join('\n') + '\n';
}

/** A .reg file for `hivexregedit --merge`: parents before children, every value in hex(type) form. */
export function renderMerge(root: MKey): string {
  const out: string[] = ['Windows Registry Editor Version 5.00', ''];
  const walk = (k: MKey, path: string): void => {
    if (path) {
      out.push(`[${path}]`);
      for (const v of k.values.values()) out.push(valueLine(v));
      out.push('');
    }
    for (const c of k.children.values()) walk(c, `${path}\\${c.name}`);
  };
  walk(root, '');
  return out.join('\n') + '\n';
}

/** Our reader's view of a hive as a model tree. */
export function modelOf(k: HiveKey, name = k.name): MKey {
  const m = mkey(name);
  for (const v of k.values()) m.values.set(fold(v.name), { name: v.name, type: v.type, data: v.data });
  for (const c of k.subkeys()) m.children.set(fold(c.name), modelOf(c));
  return m;
}

export function renderHive(h: Hive): string {
  return renderExport(modelOf(h.root));
}

/**
 * `hivexregedit --export`: Perl prints a line in Latin-1 unless it holds a character past
 * U+00FF, then in UTF-8; decode each line the way it was written.
 */
export async function hivexExport(path: string): Promise<string> {
  const raw = Buffer.from(await runBytes('hivexregedit', ['--export', path, '\\']), 'latin1');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i <= raw.length; i++) {
    if (i === raw.length || raw[i] === 0x0a) {
      const line = raw.subarray(start, i);
      let s: string;
      try {
        s = utf8.decode(line);
      } catch {
        s = line.toString('latin1');
      }
      lines.push(s);
      start = i + 1;
    }
  }
  return lines.join('\n');
}

function runBytes(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'latin1', maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Copy the empty hive to `path` and merge the tree into it with hivexregedit. */
export async function mergeInto(path: string, root: MKey): Promise<void> {
  await copyFile(EMPTY_HIVE, path);
  await chmod(path, 0o644);
  const reg = `${path}.reg`;
  await writeFile(reg, renderMerge(root));
  try {
    await run('hivexregedit', ['--merge', path, reg]);
  } finally {
    await rm(reg, { force: true });
  }
}

/** A cached hive made by hivexregedit from a model; `recipe` must name what made the model. */
export async function hivexHive(name: string, recipe: string, root: MKey): Promise<string> {
  return fixture(name, `${recipe}\n${renderMerge(root)}`, (p) => mergeInto(p, root));
}
