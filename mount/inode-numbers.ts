/**
 * The inode numbers the kernel sees (the mount uses libfuse's `use_ino`): with them, `find`
 * and `ls -R` recognise a directory that links back to its ancestor, and hard links show one
 * inode, as on the guest. One mount can hold several filesystems (/ and /boot, or C: and D:),
 * whose numbers overlap (every ext4 root is 2), so each gets a slot: number × slots + slot, with
 * slot 0 for the directories above mountpoints that no filesystem holds. A lone filesystem keeps
 * its own numbers (`ls -i` agrees with debugfs). fuse-native passes 32 bits: a number that does
 * not fit (a FAT entry past 128 GiB of a huge volume) gets one counted down from the top, kept
 * in a table for the rest of the mount so it never changes.
 */
import type { Filesystem } from '../fs/filesystem.js';
import type { MountTable } from '../guest/mounts.js';

const LIMIT = 2 ** 32;
/** 2^32 - 1 is libfuse's "unknown inode" in readdir. */
const TOP = LIMIT - 2;

export class InodeNumbers {
  private slots: Map<Filesystem, number> | undefined;
  private width = 1;
  private readonly synthetic = new Map<string, number>();
  private readonly spare = new Map<string, number>();
  private nextSpare = TOP;

  constructor(private readonly table: MountTable) {}

  /** The number for inode `ino` of `fs`. */
  of(fs: Filesystem, ino: number): number {
    const slot = this.slotOf(fs);
    const n = ino * this.width + slot;
    if (n <= TOP) return n;
    const key = `${slot}:${ino}`;
    let spare = this.spare.get(key);
    if (spare === undefined) this.spare.set(key, (spare = this.nextSpare--));
    return spare;
  }

  /** The number for a synthetic directory (slot 0). */
  ofSynthetic(path: string): number {
    this.slotOf(undefined);
    let k = this.synthetic.get(path);
    if (k === undefined) this.synthetic.set(path, (k = this.synthetic.size + 1));
    return k * this.width;
  }

  /** Slots are laid out on first use, once every filesystem is mounted. */
  private slotOf(fs: Filesystem | undefined): number {
    if (!this.slots) {
      const all = [...new Set(this.table.list().map((m) => m.fs))];
      const base = this.table.at('/') ? 0 : 1;
      this.slots = new Map(all.map((f, i) => [f, i + base]));
      this.width = all.length + base;
    }
    return fs ? (this.slots.get(fs) ?? 0) : 0;
  }
}
