/** What a Windows root looks like, and where the registry keeps its name, version and host name. */
import type { Rule } from '../rules.js';

/** A filesystem is a Windows root when its system root holds the registry. */
export const WINDOWS_ROOT: Rule[] = [
  { when: [{ file: '/Windows/System32/config' }], set: { type: 'windows', systemroot: '/Windows' } },
  { when: [{ file: '/WINNT/System32/config' }], set: { type: 'windows', systemroot: '/WINNT' } },
];

const CURRENT_VERSION = 'Microsoft\\Windows NT\\CurrentVersion';
const soft = (value: string, match: RegExp) => ({ hive: 'SOFTWARE', key: CURRENT_VERSION, value, match });

export const WINDOWS_RULES: Rule[] = [
  { when: [soft('ProductName', /^(?<productName>.+)$/s)], set: { distro: 'windows' } },
  // Windows 10 and later keep the real version in numbers; CurrentVersion stays "6.3" there.
  { when: [soft('CurrentMajorVersionNumber', /^(?<major>\d+)$/), soft('CurrentMinorVersionNumber', /^(?<minor>\d+)$/)] },
  { when: [soft('CurrentVersion', /^(?<major>\d+)\.(?<minor>\d+)/)] },
  { when: [soft('InstallationType', /^(?<productVariant>.+)$/)] },
  { when: [soft('EditionID', /^(?<edition>.+)$/)] },
  { when: [soft('CurrentBuildNumber', /^(?<build>\d+)/)] },
  { when: [soft('CurrentBuild', /^(?<build>\d+)/)] },
  {
    when: [{ hive: 'SYSTEM', key: 'Select', value: 'Current', match: /^(?<current>\d+)$/ }],
    set: (g): Record<string, string> => ({ controlSet: `ControlSet${(g['current'] ?? '').padStart(3, '0')}` }),
  },
  { when: [{ hive: 'SYSTEM', key: '{controlSet}\\Services\\Tcpip\\Parameters', value: 'Hostname', match: /^(?<hostname>.+)$/ }] },
  { when: [{ hive: 'SYSTEM', key: '{controlSet}\\Control\\ComputerName\\ComputerName', value: 'ComputerName', match: /^(?<hostname>.+)$/ }] },
];
