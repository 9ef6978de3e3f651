/** The libosinfo short id of an operating system ("debian12", "ubuntu22.04", "win10"), as libguestfs derives it. */
import type { OsInfo } from './os-info.js';

type Os = Pick<OsInfo, 'type' | 'distro' | 'majorVersion' | 'minorVersion' | 'productName' | 'productVariant' | 'windowsBuild'>;

/** First matching row wins; `id` builds the name from the version. */
const IDS: { when: (o: Os) => boolean; id: (o: Os) => string }[] = [
  { when: (o) => o.distro === 'ubuntu', id: (o) => `ubuntu${o.majorVersion}.${String(o.minorVersion).padStart(2, '0')}` },
  { when: (o) => ['debian', 'fedora', 'mageia'].includes(o.distro), id: (o) => `${o.distro}${o.majorVersion}` },
  { when: (o) => o.distro === 'centos' && o.majorVersion >= 8, id: (o) => `centos${o.majorVersion}` },
  { when: (o) => ['rhel', 'centos', 'opensuse', 'oraclelinux', 'alpinelinux'].includes(o.distro), id: (o) => `${o.distro === 'oraclelinux' ? 'ol' : o.distro}${o.majorVersion}.${o.minorVersion}` },
  { when: (o) => o.distro === 'sles', id: (o) => `sles${o.majorVersion}${o.minorVersion ? `sp${o.minorVersion}` : ''}` },
  { when: (o) => o.distro === 'archlinux', id: () => 'archlinux' },
  { when: (o) => o.type === 'windows' && o.majorVersion === 6 && o.minorVersion === 1, id: (o) => (server(o) ? 'win2k8r2' : 'win7') },
  { when: (o) => o.type === 'windows' && o.majorVersion === 6 && o.minorVersion === 2, id: (o) => (server(o) ? 'win2k12' : 'win8') },
  { when: (o) => o.type === 'windows' && o.majorVersion === 6 && o.minorVersion === 3, id: (o) => (server(o) ? 'win2k12r2' : 'win8.1') },
  { when: (o) => o.type === 'windows' && o.majorVersion === 10 && server(o), id: (o) => `win2k${/20(\d\d)/.exec(o.productName)?.[1] ?? '16'}` },
  { when: (o) => o.type === 'windows' && o.majorVersion === 10, id: (o) => (Number(o.windowsBuild) >= 22000 ? 'win11' : 'win10') },
];

function server(o: Os): boolean {
  return o.productVariant === 'Server' || /Server/.test(o.productName);
}

export function osinfoId(o: Os): string {
  return IDS.find((r) => r.when(o))?.id(o) ?? '';
}
