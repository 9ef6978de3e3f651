/**
 * Registry edits as data, applied to a hive held in memory: each edit names a key path (its
 * missing parents created) and the values it sets. Every key added and value set or changed is
 * reported as `HKLM\HIVE\path: …`, so the report lists exactly what the conversion changed.
 */
import { Hive, REG, type HiveKey, type HiveValue } from '../../../inspect/hive/hive.js';

export interface RegData {
  type: number;
  data: Buffer;
}

export interface RegEdit {
  /** Key path below the hive's root, one component a name. */
  path: string[];
  values: Record<string, RegData>;
}

const utf16z = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf16le');

export const dword = (n: number): RegData => {
  const data = Buffer.alloc(4);
  data.writeUInt32LE(n >>> 0);
  return { type: REG.DWORD, data };
};
export const sz = (s: string): RegData => ({ type: REG.SZ, data: utf16z(s) });
export const expandSz = (s: string): RegData => ({ type: REG.EXPAND_SZ, data: utf16z(s) });
export const multiSz = (list: string[]): RegData => ({ type: REG.MULTI_SZ, data: Buffer.from(`${list.map((s) => `${s}\0`).join('')}\0`, 'utf16le') });
export const binary = (data: Buffer): RegData => ({ type: REG.BINARY, data });
export const qword = (n: bigint): RegData => {
  const data = Buffer.alloc(8);
  data.writeBigUInt64LE(n);
  return { type: REG.QWORD, data };
};

/** A hive loaded from the guest, with its name as a registry path for the report ("HKLM\\SYSTEM"). */
export interface NamedHive {
  hive: Hive;
  /** "HKLM\\SYSTEM", "HKLM\\SOFTWARE". */
  root: string;
}

/** The key at `path`, created with its missing parents (each reported). */
export function createKey(h: NamedHive, path: string[], report: (m: string) => void): HiveKey {
  let key: HiveKey = h.hive.root;
  for (const [i, name] of path.entries()) {
    const next = key.subkey(name);
    if (next) {
      key = next;
      continue;
    }
    key = h.hive.addKey(key, name);
    report(`${h.root}\\${path.slice(0, i + 1).join('\\')}: key added`);
  }
  return key;
}

/** Set a value unless it already holds exactly this; reports what changed. */
export function setValue(h: NamedHive, key: HiveKey, keyPath: string[], name: string, v: RegData, report: (m: string) => void): void {
  const old = key.value(name);
  if (old && old.type === v.type && old.data.equals(v.data)) return;
  h.hive.setValue(key, name, v.type, v.data);
  const where = `${h.root}\\${keyPath.join('\\')}`;
  const label = name === '' ? '(default)' : name;
  report(old ? `${where}: ${label} changed from ${show(old)} to ${show(v)}` : `${where}: ${label} = ${show(v)}`);
}

export function applyEdits(h: NamedHive, edits: RegEdit[], report: (m: string) => void): void {
  for (const e of edits) {
    const key = createKey(h, e.path, report);
    for (const [name, v] of Object.entries(e.values)) setValue(h, key, e.path, name, v, report);
  }
}

/** A value as the report prints it: strings quoted, numbers in hex, lists joined, bytes in hex. */
export function show(v: RegData | HiveValue): string {
  const text = (b: Buffer) => b.toString('utf16le', 0, b.length & ~1);
  switch (v.type) {
    case REG.SZ:
    case REG.EXPAND_SZ:
      return JSON.stringify(text(v.data).replace(/\0.*$/s, ''));
    case REG.MULTI_SZ:
      return `[${text(v.data).split('\0').filter((s) => s !== '').map((s) => JSON.stringify(s)).join(', ')}]`;
    case REG.DWORD:
      return v.data.length >= 4 ? `dword:0x${v.data.readUInt32LE(0).toString(16)}` : 'dword:?';
    case REG.QWORD:
      return v.data.length >= 8 ? `qword:0x${v.data.readBigUInt64LE(0).toString(16)}` : 'qword:?';
    default:
      return `hex:${v.data.toString('hex')}`;
  }
}
