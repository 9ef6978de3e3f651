/**
 * Run the Windows conversion the way virt-v2v's pipeline does (the source image read-only under
 * a qcow2 overlay, a writable Guest over it, inspected and mounted), then look at the result
 * with the real tools: qemu-img flattens the overlay, ntfsfix/ntfscat/ntfsls read C:, hivex
 * exports the hives.
 */
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createOverlay } from '../../../../disk/qcow2/create.js';
import { openDisk } from '../../../../disk/open.js';
import { Guest } from '../../../../guest/guest.js';
import { inspectGuest, mountOs, onlyOs } from '../../../../inspect/inspect.js';
import type { OsInfo } from '../../../../inspect/os-info.js';
import { GuestFiles } from '../../../../v2v/guest-files.js';
import { convertWindows } from '../../../../v2v/convert/windows/convert.js';
import type { Converted, Source } from '../../../../v2v/types.js';
import { run, runStatus } from '../../../fixtures/run.js';
import { hivexExport } from '../../../inspect/hive/reg.js';
import { GUEST_LAYOUT, type WindowsGuest } from '../../images/windows-guest.js';

export interface Conversion {
  converted: Converted;
  os: OsInfo;
  report: string[];
  warnings: string[];
  overlay: string;
}

export const sha256 = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex');

export function sourceOf(disk: string): Source {
  return { name: 'win', memory: 2n << 30n, vcpus: 2, firmware: 'unknown', disks: [{ name: disk, open: () => openDisk(disk, { format: 'raw' }) }], cdroms: [], nics: [], close: async () => undefined };
}

export async function convert(guest: WindowsGuest, dir: string, virtioWin: string | undefined): Promise<Conversion> {
  const overlay = join(dir, 'overlay.qcow2');
  const dev = await createOverlay(await openDisk(guest.disk, { format: 'raw' }), overlay, { backingFormat: 'raw' });
  const g = await Guest.openDevices([dev], { readonly: false });
  const report: string[] = [];
  const warnings: string[] = [];
  try {
    const os = onlyOs((await inspectGuest(g)).oses);
    if (!os) throw new Error(`${guest.disk}: no single OS found`);
    await mountOs(g, os);
    const converted = await convertWindows(g, os, new GuestFiles(g.mounts), sourceOf(guest.disk), { virtioWin, report: (m) => report.push(m), warn: (m) => warnings.push(m) });
    return { converted, os, report, warnings, overlay };
  } finally {
    await g.close();
  }
}

/** C: of the converted disk as an NTFS image file, for the ntfs-3g tools. */
export async function systemDrive(overlay: string, dir: string): Promise<string> {
  const raw = join(dir, 'converted.raw');
  await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', overlay, raw]);
  const c = join(dir, 'c.img');
  const [start, size] = GUEST_LAYOUT[1];
  await run('dd', [`if=${raw}`, `of=${c}`, 'bs=1M', `skip=${start}`, `count=${size}`, 'status=none']);
  return c;
}

export async function ntfscat(img: string, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    import('node:child_process').then(({ execFile }) => execFile('ntfscat', [img, path], { encoding: 'buffer', maxBuffer: 1 << 28 }, (err, out, stderr) => {
      if (err) reject(new Error(`ntfscat ${img} ${path}: ${stderr.toString() || err.message}`));
      else resolve(out);
    }));
  });
}

export async function ntfsls(img: string, path: string): Promise<string[]> {
  return (await run('ntfsls', ['-f', '-p', path, img])).split('\n').filter((l) => l !== '' && l !== '.' && l !== '..').sort();
}

export async function ntfsfixClean(img: string): Promise<{ code: number; out: string }> {
  const r = await runStatus('ntfsfix', ['-n', img]);
  return { code: r.code, out: r.stdout + r.stderr };
}

/** A hive as hivex exports it: key path → value name → the exported line. */
export type Export = Map<string, Map<string, string>>;

export async function exportHive(path: string): Promise<Export> {
  const out: Export = new Map();
  let cur: Map<string, string> | undefined;
  for (const line of (await hivexExport(path)).split('\n')) {
    const key = /^\[\\?(.*)\]$/.exec(line);
    if (key) {
      cur = new Map();
      out.set(key[1]!, cur);
    } else if (cur && line !== '') {
      const name = line.startsWith('@=') ? '' : /^"((?:[^"\\]|\\.)*)"=/.exec(line)?.[1]?.replace(/\\(.)/g, '$1');
      if (name === undefined) throw new Error(`hivexregedit --export ${path}: cannot read the line ${JSON.stringify(line)}`);
      cur.set(name, line);
    }
  }
  return out;
}

export interface HiveDiff {
  addedKeys: string[];
  removedKeys: string[];
  /** "key\\value" for values added, changed or removed. */
  values: string[];
}

export function diffHives(before: Export, after: Export): HiveDiff {
  const addedKeys = [...after.keys()].filter((k) => !before.has(k)).sort();
  const removedKeys = [...before.keys()].filter((k) => !after.has(k)).sort();
  const values: string[] = [];
  for (const [k, vals] of after) {
    const old = before.get(k) ?? new Map<string, string>();
    for (const [n, line] of vals) if (old.get(n) !== line) values.push(`${k}\\${n}`);
    for (const n of old.keys()) if (!vals.has(n)) values.push(`${k}\\${n} (removed)`);
  }
  return { addedKeys, removedKeys, values: values.sort() };
}

/** The report lines about one hive's keys and values, as "key" and "key\\value" like diffHives. */
export function reportedHive(report: string[], root: string): { keys: string[]; values: string[] } {
  const keys: string[] = [];
  const values: string[] = [];
  for (const line of report) {
    if (!line.startsWith(`${root}\\`)) continue;
    const m = /^(.*?): (key added|(.*?) (?:=|changed from) .*)$/s.exec(line.slice(root.length + 1));
    if (!m) throw new Error(`unexpected report line: ${line}`);
    if (m[2] === 'key added') keys.push(m[1]!);
    else values.push(`${m[1]}\\${m[3] === '(default)' ? '' : m[3]}`);
  }
  return { keys: keys.sort(), values: values.sort() };
}

/**
 * A converted hive against the one the guest was built with: hivex's exports diffed, checked to
 * match the report line for line (every key added and value set, and nothing else) and to
 * remove no key. The exported hive is left at DIR/NAME.after.
 */
export async function checkedHiveDiff(r: { c: string; dir: string; report: string[] }, guest: WindowsGuest, name: 'SYSTEM' | 'SOFTWARE'): Promise<HiveDiff> {
  const path = join(r.dir, `${name}.after`);
  await writeFile(path, await ntfscat(r.c, `/Windows/System32/config/${name}`));
  const diff = diffHives(await exportHive(name === 'SYSTEM' ? guest.system : guest.software), await exportHive(path));
  assert.deepEqual(reportedHive(r.report, `HKLM\\${name}`), { keys: diff.addedKeys, values: diff.values }, `${name}: the report names exactly the changes hivex sees`);
  assert.deepEqual(diff.removedKeys, [], `${name}: no key removed`);
  return diff;
}
