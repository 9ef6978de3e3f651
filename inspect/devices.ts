/**
 * Names a guest uses for its devices (fstab's UUID=, LABEL=, PARTUUID=, /dev/mapper/vg-lv,
 * /dev/vdb1, /dev/disk/by-*) mapped onto our device names ("/dev/sda2", "/dev/vg0/root").
 */
import type { FsCandidate, Guest } from '../guest/guest.js';

export class DeviceNames {
  private constructor(
    private readonly guest: Guest,
    private readonly fss: FsCandidate[],
  ) {}

  static async of(guest: Guest): Promise<DeviceNames> {
    return new DeviceNames(guest, await guest.filesystems());
  }

  /** Our name for a guest's device spec, or undefined when nothing here matches it. */
  resolve(spec: string): string | undefined {
    const tag = /^(UUID|LABEL|PARTUUID|PARTLABEL)=["']?([^"']*)/.exec(spec);
    if (tag) return this.byTag(tag[1]!, tag[2]!);
    const byPath = /^\/dev\/disk\/by-(uuid|label|partuuid|partlabel)\/(.+)$/.exec(spec);
    if (byPath) return this.byTag(byPath[1]!.toUpperCase(), unescapeUdev(byPath[2]!));
    const mapper = /^\/dev\/mapper\/((?:[^-]|--)+)-((?:[^-]|--)+)$/.exec(spec);
    if (mapper) return this.lv(`/dev/${mapper[1]!.replace(/--/g, '-')}/${mapper[2]!.replace(/--/g, '-')}`);
    // Whatever bus the guest saw its disks on, they are ours in the same order.
    const disk = /^\/dev\/(?:[shv]d|xvd)([a-z]+)(\d*)$/.exec(spec);
    if (disk) return this.device(`/dev/sd${disk[1]}${disk[2]}`);
    return this.lv(spec) ?? this.device(spec);
  }

  private byTag(tag: string, value: string): string | undefined {
    const v = value.toLowerCase();
    const scan = this.guest.scan;
    switch (tag) {
      case 'UUID':
        return this.fss.find((f) => f.uuid.toLowerCase() === v)?.name;
      case 'LABEL':
        return this.fss.find((f) => f.label === value)?.name;
      case 'PARTLABEL':
        return scan.partitions.find((p) => p.label === value)?.name;
      case 'PARTUUID':
        // GPT: the partition GUID; MBR: the disk signature and the partition number, "0a1b2c3d-02".
        return scan.partitions.find((p) => p.guid?.toLowerCase() === v
          || (p.diskSignature !== undefined && `${hex(p.diskSignature, 8)}-${hex(p.number, 2)}` === v))?.name;
    }
    return undefined;
  }

  private lv(name: string): string | undefined {
    return this.guest.scan.lvs.find((l) => l.name === name)?.name;
  }

  private device(name: string): string | undefined {
    return this.guest.candidates().find((c) => c.name === name)?.name;
  }
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** udev escapes unsafe characters of /dev/disk/by-label names as \xNN. */
function unescapeUdev(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}
