/**
 * Register a machine startup script in the local Group Policy, the way gpedit.msc does it, so
 * Windows runs it at every boot as LocalSystem, before anyone logs on: the GPO's files
 * (`System32\GroupPolicy\gpt.ini` with its machine version raised and the Scripts extension
 * listed, `Machine\Scripts\scripts.ini` with a [Startup] entry) and the registry copy that
 * gpscript.exe runs from (`Group Policy\Scripts\Startup` and `Group Policy\State\Machine\…`
 * in SOFTWARE). Existing local startup scripts are kept: ours is added after them.
 */
import type { OsInfo } from '../../../inspect/os-info.js';
import type { GuestFiles } from '../../guest-files.js';
import { mkdirReported, writeReported } from './drivers.js';
import { windowsPath } from './guest-paths.js';
import { createKey, dword, qword, setValue, sz, type NamedHive, type RegEdit } from './registry.js';

/** The Scripts client-side extension and its gpedit snap-in, as gPCMachineExtensionNames lists them. */
const SCRIPTS_EXTENSION = '[{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{40B6664F-4972-11D1-A7CA-0000F87571E3}]';
const GP_KEY = ['Microsoft', 'Windows', 'CurrentVersion', 'Group Policy'];
const STARTUP_KEYS = [[...GP_KEY, 'Scripts', 'Startup'], [...GP_KEY, 'State', 'Machine', 'Scripts', 'Startup']];

export interface StartupRegistration {
  /** Registry keys (below HKLM\SOFTWARE, '\'-joined) the script removes when it is done. */
  keys: string[];
  /** The scripts.ini as it was (undefined when there was none): restored when done. */
  scriptsIni?: Buffer;
}

export async function registerStartupScript(files: GuestFiles, os: OsInfo, software: NamedHive, script: string, report: (m: string) => void): Promise<StartupRegistration> {
  const systemroot = os.windowsSystemroot || '/Windows';
  const gpDir = `${systemroot}/System32/GroupPolicy`;
  const scriptsDir = `${gpDir}/Machine/Scripts`;
  await mkdirReported(files, os, scriptsDir, report);

  const gptPath = `${gpDir}/gpt.ini`;
  const gpt = (await files.exists(gptPath)) ? (await files.read(gptPath)).toString('latin1') : undefined;
  await writeReported(files, os, gptPath, Buffer.from(raiseGptIni(gpt), 'latin1'), 'machine policy version raised, Scripts extension listed', report);

  const iniPath = `${scriptsDir}/scripts.ini`;
  const old = (await files.exists(iniPath)) ? await files.read(iniPath) : undefined;
  await writeReported(files, os, iniPath, addStartupToIni(old, script), `[Startup] runs ${script}`, report);

  const machineDir = windowsPath(os, `${gpDir}/Machine`);
  const keys: string[] = [];
  for (const base of STARTUP_KEYS) {
    const startup = createKey(software, base, report);
    const gpos = startup.subkeys();
    const local = gpos.find((k) => k.value('GPO-ID')?.type === 1 && k.value('GPO-ID')!.string() === 'LocalGPO');
    const gpoPath = [...base, local?.name ?? String(gpos.length)];
    const gpo = createKey(software, gpoPath, report);
    if (!local) {
      const values: RegEdit['values'] = { 'GPO-ID': sz('LocalGPO'), 'SOM-ID': sz('Local'), FileSysPath: sz(machineDir), DisplayName: sz('Local Group Policy'), GPOName: sz('Local Group Policy'), PSScriptOrder: dword(1) };
      for (const [name, v] of Object.entries(values)) setValue(software, gpo, gpoPath, name, v, report);
    }
    const scriptPath = [...gpoPath, String(gpo.subkeys().length)];
    const key = createKey(software, scriptPath, report);
    const values: RegEdit['values'] = { Script: sz(script), Parameters: sz(''), IsPowershell: dword(0), ExecTime: qword(0n) };
    for (const [name, v] of Object.entries(values)) setValue(software, key, scriptPath, name, v, report);
    keys.push((local ? scriptPath : gpoPath).join('\\'));
  }
  return { keys, scriptsIni: old };
}

/** gpt.ini with the machine half of Version (its high 16 bits) raised by one and the Scripts extension listed. */
export function raiseGptIni(text: string | undefined): string {
  const lines = (text ?? '[General]\r\n').split(/\r?\n/).filter((l) => l !== '');
  const at = (name: string) => lines.findIndex((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}=`));
  const v = at('Version');
  const version = v >= 0 ? Number(lines[v]!.split('=')[1]) >>> 0 : 0;
  const raised = `Version=${(((version >>> 16) + 1) & 0xffff) * 65536 + (version & 0xffff)}`;
  if (v >= 0) lines[v] = raised;
  else lines.push(raised);
  const x = at('gPCMachineExtensionNames');
  const groups: string[] = x < 0 ? [] : (lines[x]!.slice(lines[x]!.indexOf('=') + 1).match(/\[[^\]]*\]/g) ?? []);
  // Windows wants the list sorted by the extensions' GUIDs.
  if (!groups.some((g) => g.toUpperCase().startsWith(SCRIPTS_EXTENSION.slice(0, 39)))) groups.push(SCRIPTS_EXTENSION);
  groups.sort((a, b) => (a.toUpperCase() < b.toUpperCase() ? -1 : a.toUpperCase() > b.toUpperCase() ? 1 : 0));
  const names = `gPCMachineExtensionNames=${groups.join('')}`;
  if (x < 0) lines.push(names);
  else lines[x] = names;
  return `${lines.join('\r\n')}\r\n`;
}

/** scripts.ini (UTF-16LE with a BOM, as gpedit writes it; an ANSI one stays ANSI) with our script after the others in [Startup]. */
export function addStartupToIni(old: Buffer | undefined, script: string): Buffer {
  const utf16 = old === undefined || (old[0] === 0xff && old[1] === 0xfe);
  const text = old === undefined ? '' : utf16 ? old.toString('utf16le', 2) : old.toString('latin1');
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  let start = lines.findIndex((l) => l.trim().toLowerCase() === '[startup]');
  if (start < 0) {
    lines.push('[Startup]');
    start = lines.length - 1;
  }
  let end = start + 1;
  while (end < lines.length && !lines[end]!.trim().startsWith('[')) end++;
  const used = lines.slice(start + 1, end).map((l) => /^(\d+)CmdLine=/i.exec(l)?.[1]).filter((n) => n !== undefined).map(Number);
  const n = used.length ? Math.max(...used) + 1 : 0;
  lines.splice(end, 0, `${n}CmdLine=${script}`, `${n}Parameters=`);
  const out = `\r\n${lines.join('\r\n')}\r\n`;
  return utf16 ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(out, 'utf16le')]) : Buffer.from(out, 'latin1');
}
