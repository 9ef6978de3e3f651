/**
 * Convert a Windows guest to boot on KVM, by editing its files and registry directly (virt-v2v
 * does the same through libguestfs's appliance): install the virtio boot disk driver so the
 * first boot finds its disk, put the other virtio drivers where Plug and Play finds them, and
 * leave what needs Windows itself (pnputil, uninstalling VMware, Parallels or Xen tools, installing
 * qemu-guest-agent) to first-boot scripts. Without virtio-win, or without drivers for this
 * Windows in it, the guest keeps emulated devices it has drivers for. README.md lists every
 * change.
 */
import type { Guest } from '../../../guest/guest.js';
import type { OsInfo } from '../../../inspect/os-info.js';
import type { GuestFiles } from '../../guest-files.js';
import type { Converted, ConvertOptions, Converter, DiskBus, Firmware, NicModel, Source } from '../../types.js';
import { criticalDeviceEdits, driverDatabaseEdits, serviceEdit } from './block-driver.js';
import { appendDevicePath } from './device-path.js';
import { DRIVER_DIR, installDrivers, type InstalledDrivers } from './drivers.js';
import { installFirstboot, type FirstbootFile, type FirstbootScript } from './firstboot.js';
import { balloonServiceScript, installDriversScript, qemuGaScript, uninstallScript } from './firstboot-scripts.js';
import { loadHive, saveHive, type GuestHive } from './hives.js';
import { applyEdits, dword, type RegEdit } from './registry.js';
import { baseName, qemuGaFits } from './virtio-win/match.js';
import { rtcIsUniversal } from './clock.js';
import { openVirtioWin } from './virtio-win/open.js';
import { guestToolsDriverEdits, guestToolsUninstalls } from './guest-tools.js';

export const convertWindows: Converter = async (guest: Guest, os: OsInfo, files: GuestFiles, source: Source, opts: ConvertOptions): Promise<Converted> => {
  const controlSet = os.windowsCurrentControlSet;
  if (!controlSet) throw new Error(`${os.root}: Windows inspection found no current control set (SYSTEM\\Select\\Current)`);
  const systemroot = os.windowsSystemroot || '/Windows';

  // Both hives are read before anything is written, so a damaged or dirty one stops the conversion early.
  const system = await loadHive(files, systemroot, 'SYSTEM');
  const software = await loadHive(files, systemroot, 'SOFTWARE');
  const uninstalls = guestToolsUninstalls(software.hive, opts.warn);

  let drivers: InstalledDrivers | undefined;
  const extra: FirstbootFile[] = [];
  if (opts.virtioWin) {
    const src = await openVirtioWin(opts.virtioWin);
    try {
      drivers = await installDrivers(files, os, src, opts.report);
      if (!drivers) opts.warn(`${src.name}: no virtio drivers for this Windows (${os.osinfo || `${os.majorVersion}.${os.minorVersion}`} ${os.arch}): the guest keeps emulated devices, which are slower`);
      const ga = (await src.files()).find((f) => qemuGaFits(f.path, os.arch));
      if (ga) extra.push({ name: baseName(ga.path), data: await src.read(ga) });
      else opts.warn(`${src.name}: no qemu-guest-agent MSI for ${os.arch}: install the guest agent yourself after the conversion`);
    } finally {
      await src.close();
    }
  } else {
    opts.warn('no virtio-win drivers given (VIRTIO_WIN=DIR|ISO): the guest keeps emulated devices (SATA or IDE disks, an e1000 or rtl8139 NIC), which are slower; convert again with VIRTIO_WIN for virtio');
  }

  const sys = counting(opts.report);
  applyEdits(system, systemEdits(system, os, controlSet, drivers), sys.report);

  const soft = counting(opts.report);
  if (drivers) appendDevicePath(software, `%SystemRoot%\\${DRIVER_DIR.replace(/\//g, '\\')}`, soft.report, opts.warn);
  const scripts: FirstbootScript[] = [
    ...(drivers ? [installDriversScript()] : []),
    ...(drivers?.names.has('blnsvr.exe') ? [balloonServiceScript()] : []),
    ...extra.map((f) => qemuGaScript(f.name)),
    ...uninstalls.map(uninstallScript),
  ];
  if (scripts.length > 0) await installFirstboot(files, os, software, scripts, extra, soft.report);

  await saveHive(files, system, sys.count() > 0);
  await saveHive(files, software, soft.count() > 0);

  const legacy = os.majorVersion < 6;
  const diskBus: DiskBus = drivers?.block ? (drivers.block === 'vioscsi' ? 'scsi' : 'virtio') : legacy ? 'ide' : 'sata';
  const nicModel: NicModel = drivers?.names.has('netkvm.inf') ? 'virtio' : legacy ? 'rtl8139' : 'e1000';
  if (drivers && !drivers.block) opts.warn(`${opts.virtioWin}: no virtio disk driver (viostor, vioscsi) for ${os.osinfo} ${os.arch}: the disks stay on ${diskBus}`);
  if (drivers && nicModel !== 'virtio') opts.warn(`${opts.virtioWin}: no virtio network driver (netkvm) for ${os.osinfo} ${os.arch}: the NIC is an emulated ${nicModel}`);
  return {
    diskBus,
    nicModel,
    video: 'vga',
    firmware: firmwareOf(guest, source),
    guestAgent: extra.length > 0,
    virtioRng: drivers?.names.has('viorng.inf') ?? false,
    virtioBalloon: drivers?.names.has('balloon.inf') ?? false,
    clock: rtcIsUniversal(system.hive, controlSet, opts.warn) ? 'utc' : 'localtime',
  };
};

/** SYSTEM's edits: the boot disk driver, or the in-box SATA driver started at boot when there is none. */
function systemEdits(system: GuestHive, os: OsInfo, controlSet: string, drivers: InstalledDrivers | undefined): RegEdit[] {
  const edits: RegEdit[] = [];
  if (drivers?.block) {
    const ddb = system.hive.key('DriverDatabase') !== undefined;
    edits.push(serviceEdit(controlSet, drivers.block));
    edits.push(...(ddb ? driverDatabaseEdits(drivers.block, os.arch) : criticalDeviceEdits(controlSet, drivers.block)));
  } else if (os.majorVersion >= 6) {
    // A guest installed on a SCSI controller has its AHCI driver on demand start: SATA needs it at boot.
    const ahci = os.majorVersion > 6 || os.minorVersion >= 2 ? 'storahci' : 'msahci';
    if (system.hive.key(`${controlSet}\\Services\\${ahci}`)) edits.push({ path: [controlSet, 'Services', ahci], values: { Start: dword(0) } });
  }
  edits.push(...guestToolsDriverEdits(system.hive, controlSet));
  // A crash would reboot at once and hide its stop code (0x7B when the disk driver is wrong).
  if (system.hive.key(`${controlSet}\\Control\\CrashControl`)) edits.push({ path: [controlSet, 'Control', 'CrashControl'], values: { AutoReboot: dword(0) } });
  return edits;
}

function firmwareOf(guest: Guest, source: Source): Firmware {
  if (source.firmware !== 'unknown') return source.firmware;
  // Windows boots from GPT only with UEFI.
  return guest.scan.tables['/dev/sda'] === 'gpt' ? 'uefi' : 'bios';
}

function counting(report: (m: string) => void): { report: (m: string) => void; count: () => number } {
  let n = 0;
  return { report: (m) => { n++; report(m); }, count: () => n };
}
