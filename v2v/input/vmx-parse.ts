/**
 * The VMX key/value format, as libguestfs's parse_vmx.ml and libvirt's vmx.c read it: one
 * `key = "value"` a line, keys compared case-insensitively and namespaced by dots
 * (`scsi0:0.fileName`), `|XX` hex escapes in values (`|22` is a quote, `|7C` a pipe),
 * comments and blank lines ignored, the first of duplicate keys kept, and every key under a
 * namespace whose `present` is false dropped. Unquoted values (packer writes some) are taken
 * as they stand.
 */
import { InputError } from './errors.js';

const LINE = /^([^\s=]+)\s*=\s*(?:"(.*)"|([^"]*?))\s*$/;
const MAX_WARNINGS = 10;

export type Vmx = Map<string, string>;

export function unescapeVmx(value: string): string {
  return value.replace(/\|([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export function parseVmx(text: string, file: string, warn: (m: string) => void): Vmx {
  // A sparse VMDK is refused as binary before this; a descriptor is text.
  if (text.startsWith('# Disk DescriptorFile')) {
    throw new InputError(file, 'is a VMDK (a disk image), but a VMX (VMware metadata) was expected');
  }
  const vmx: Vmx = new Map();
  let bad = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) {
      if (++bad <= MAX_WARNINGS) warn(`${file}: cannot parse this VMX line, ignoring it: ${line.slice(0, 200)}`);
      continue;
    }
    const key = m[1]!.toLowerCase();
    if (vmx.has(key)) warn(`${file}: duplicate VMX key "${m[1]}" ignored`);
    else vmx.set(key, unescapeVmx(m[2] ?? m[3] ?? ''));
  }
  if (bad > MAX_WARNINGS) warn(`${file}: ${bad - MAX_WARNINGS} more VMX lines could not be parsed`);
  return dropNotPresent(vmx);
}

function dropNotPresent(vmx: Vmx): Vmx {
  const absent = [...vmx]
    .filter(([k, v]) => k.endsWith('.present') && v.toLowerCase() === 'false')
    .map(([k]) => k.slice(0, -'present'.length));
  if (absent.length === 0) return vmx;
  return new Map([...vmx].filter(([k]) => !absent.some((ns) => k.startsWith(ns))));
}
