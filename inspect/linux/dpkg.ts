/** Installed packages from dpkg's status file (/var/lib/dpkg/status). */
import type { Application } from '../os-info.js';
import { splitEvr } from './evr.js';

export const DPKG_STATUS = '/var/lib/dpkg/status';

/** Stanzas whose Status says installed, in file order. */
export function parseDpkgStatus(text: string): Application[] {
  const apps: Application[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const f = fields(stanza);
    if (!f['package'] || !/\binstalled$/.test(f['status'] ?? '')) continue;
    const [summary = '', ...rest] = (f['description'] ?? '').split('\n');
    const description = rest.map((l) => (l.trim() === '.' ? '' : l.replace(/^ /, ''))).join('\n').trim();
    apps.push({
      name: f['package'],
      ...splitEvr(f['version'] ?? ''),
      arch: f['architecture'] ?? '',
      ...(f['homepage'] ? { url: f['homepage'] } : {}),
      ...(f['source'] ? { sourcePackage: f['source'].replace(/\s.*/, '') } : {}),
      summary,
      description,
    });
  }
  return apps;
}

/** RFC-822-style fields, continuation lines kept (lower-case names). */
function fields(stanza: string): Record<string, string> {
  const out: Record<string, string> = {};
  let last = '';
  for (const line of stanza.split('\n')) {
    if (/^\s/.test(line) && last) out[last] += `\n${line}`;
    else {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon).toLowerCase();
      out[last] = line.slice(colon + 1).trim();
    }
  }
  return out;
}
