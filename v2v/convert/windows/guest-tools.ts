/**
 * Other hypervisors' guest tools, found as virt-v2v finds them and removed at first boot by
 * their own uninstallers, with the drivers that would load before that disabled now.
 * - VMware Tools and Parallels (or Virtuozzo) Tools: the SOFTWARE hive's Uninstall entries
 *   (64-bit and WOW6432Node) whose DisplayName names them, run quietly through MSI options,
 *   without a reboot, logged next to the first-boot script. VMware's installer records its
 *   *install* command ("MsiExec.exe /I{GUID}") as the UninstallString (RHBZ#1917760), so /I
 *   becomes /X; Parallels' uninstaller needs two properties of its own to skip its reboot
 *   dialog, and prl_strg's driver reference count dropped first.
 * - Red Hat's Xen PV drivers: their Uninstall entry, running `_uninst.exe` (the `uninst.exe`
 *   wrapper would prompt).
 * - In SYSTEM: Parallels' services get Start=4 (disabled, not deleted: their uninstaller
 *   wants them) and prl_strg leaves the disk class's LowerFilters (what its .inf's DelReg
 *   does); Xen's rhelscsi gets Start=4 (RHBZ#809273).
 */
import { REG, type Hive } from '../../../inspect/hive/hive.js';
import { dword, multiSz, type RegEdit } from './registry.js';

const UNINSTALL_KEYS = ['Microsoft\\Windows\\CurrentVersion\\Uninstall', 'WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall'];
const MSI_QUIET = '/quiet /norestart /l*v+ "%~dpn0.log" REBOOT=ReallySuppress REMOVE=ALL';
const XEN_PV = 'Red Hat Paravirtualized Xen Drivers for Windows(R)';
const PRL_SERVICES = ['prl_boot', 'prl_dd', 'prl_eth5', 'prl_fs', 'prl_memdev', 'prl_mouf', 'prl_pv32', 'prl_pv64', 'prl_scsi', 'prl_sound', 'prl_strg', 'prl_tg', 'prl_time', 'prl_uprof', 'prl_va'];
/** The disk drives device class. */
const DISK_CLASS = '{4d36e967-e325-11ce-bfc1-08002be10318}';

export interface UninstallCommand {
  /** Which tools ("VMware Tools"), and the first-boot script's name. */
  tools: string;
  script: string;
  /** The Uninstall entry's key name and DisplayName, for the report. */
  key: string;
  displayName: string;
  /** Batch lines that run before the uninstaller. */
  before: string[];
  command: string;
}

interface ToolsKind {
  tools: string;
  script: string;
  matches(displayName: string, keyName: string): boolean;
  command(uninstallString: string): string;
  before?: string[];
}

const KINDS: ToolsKind[] = [
  {
    tools: 'VMware Tools',
    script: 'uninstall-vmware-tools',
    matches: (display) => display.includes('VMware Tools'),
    command: (u) => `${/msiexec/i.test(u) ? u.replace(/\/i/i, '/X') : u} ${MSI_QUIET}`,
  },
  {
    tools: 'Parallels Tools',
    script: 'uninstall-parallels-tools',
    matches: (display) => display.includes('Parallels Tools') || display.includes('Virtuozzo Tools'),
    command: (u) => `${u} ${MSI_QUIET} PREVENT_REBOOT=Yes LAUNCHED_BY_SETUP_EXE=Yes`,
    before: ['REG DELETE "HKLM\\System\\CurrentControlSet\\Services\\prl_strg\\DriverInfo" /v RefCount /f'],
  },
  {
    tools: 'Xen PV drivers',
    script: 'uninstall-xen-pv',
    matches: (_display, key) => key === XEN_PV,
    command: (u) => {
      const exe = /uninst\.exe$/i.test(u) && !/_uninst\.exe$/i.test(u) ? `${u.slice(0, -'uninst.exe'.length)}_uninst.exe` : u;
      return /^"/.test(exe) ? exe : `"${exe}"`;
    },
  },
];

export function guestToolsUninstalls(software: Hive, warn: (m: string) => void): UninstallCommand[] {
  const out: UninstallCommand[] = [];
  for (const path of UNINSTALL_KEYS) {
    for (const entry of software.key(path)?.subkeys() ?? []) {
      const display = stringValue(entry.value('DisplayName')) ?? '';
      const kind = KINDS.find((k) => k.matches(display, entry.name));
      if (!kind) continue;
      const uninstall = stringValue(entry.value('UninstallString'));
      if (uninstall === undefined) {
        warn(`cannot uninstall ${display || kind.tools}: HKLM\\SOFTWARE\\${path}\\${entry.name} has no UninstallString`);
        continue;
      }
      out.push({ tools: kind.tools, script: kind.script, key: `${path}\\${entry.name}`, displayName: display || kind.tools, before: kind.before ?? [], command: kind.command(uninstall) });
    }
  }
  return out;
}

/** SYSTEM edits that keep Parallels' and Xen's drivers from loading on KVM. */
export function guestToolsDriverEdits(system: Hive, controlSet: string): RegEdit[] {
  const edits: RegEdit[] = [];
  for (const svc of [...PRL_SERVICES, 'rhelscsi']) {
    if (system.key(`${controlSet}\\Services\\${svc}`)) edits.push({ path: [controlSet, 'Services', svc], values: { Start: dword(4) } });
  }
  const diskClass = system.key(`${controlSet}\\Control\\Class\\${DISK_CLASS}`);
  const filters = diskClass?.value('LowerFilters');
  if (filters?.type === REG.MULTI_SZ) {
    const list = filters.data.toString('utf16le', 0, filters.data.length & ~1).split('\0').filter((s) => s !== '');
    if (list.includes('prl_strg')) edits.push({ path: [controlSet, 'Control', 'Class', DISK_CLASS], values: { LowerFilters: multiSz(list.filter((s) => s !== 'prl_strg')) } });
  }
  return edits;
}

function stringValue(v: { type: number; string(): string } | undefined): string | undefined {
  return v && (v.type === REG.SZ || v.type === REG.EXPAND_SZ) ? v.string() : undefined;
}
