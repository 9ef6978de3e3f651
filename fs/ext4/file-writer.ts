/**
 * Writing a regular file's data: blocks the write reaches are filled (old bytes kept at the
 * edges), holes allocated, unwritten (preallocated) extents marked written; truncating frees
 * what lies past the new size and zeroes the rest of the last block. Data goes to its blocks
 * before the tree and inode that point at it (data=ordered).
 */
import { FsError } from '../errors.js';
import { S_IFDIR, S_IFREG } from './constants.js';
import { touch, type Ext4Storage } from './ext4-storage.js';
import { runsOf, setRange, type Extent } from './extent-list.js';
import type { Inode } from './inode.js';

/** Blocks written at once when filling newly allocated space. */
const WRITE_CHUNK_BLOCKS = 256;

export class FileWriter {
  constructor(private readonly store: Ext4Storage) {}

  private get dev(): string {
    return this.store.fs.io.name;
  }

  private async regularFile(ino: number): Promise<Inode> {
    const inode = await this.store.ownWritable(ino);
    if (inode.type !== S_IFREG) throw new FsError(inode.type === S_IFDIR ? 'EISDIR' : 'EINVAL', `${this.dev}: inode ${ino} is not a regular file`);
    return inode;
  }

  async write(ino: number, offset: number, data: Uint8Array): Promise<number> {
    const { io, sb, inodes } = this.store.fs;
    const inode = await this.regularFile(ino);
    if (data.length === 0) return 0;
    const bs = sb.blockSize;
    const end = offset + data.length;
    if (!Number.isSafeInteger(offset) || offset < 0 || end > this.store.maxBytes(inode)) throw new FsError('EFBIG', `${this.dev}: write past the largest file size`);
    const src = Buffer.from(data.buffer, data.byteOffset, data.length);
    const mapped = await this.store.mapping(inode);
    let extents = mapped.extents;
    const first = Math.floor(offset / bs);
    const last = Math.ceil(end / bs);
    // Build the new contents of a run of blocks starting at lblk: old bytes where the write
    // does not reach (zeros for new or unwritten blocks), the written bytes elsewhere.
    const fill = async (lblk: number, n: number, oldPblk: number): Promise<Buffer> => {
      const buf = Buffer.alloc(n * bs);
      const runStart = lblk * bs;
      const from = Math.max(offset, runStart);
      const to = Math.min(end, runStart + n * bs);
      if (oldPblk) {
        // Edge blocks keep their old bytes outside the written range.
        if (from > runStart) (await io.readBlocks(oldPblk, 1)).copy(buf, 0);
        if (to < runStart + n * bs) (await io.readBlocks(oldPblk + n - 1, 1)).copy(buf, (n - 1) * bs);
      }
      src.copy(buf, from - runStart, from - offset, to - offset);
      return buf;
    };
    const tail = extents[extents.length - 1];
    let goal = tail ? tail.pblk + tail.len : inodes.groupStart(ino);
    for (const r of runsOf(extents, first, last - first)) {
      for (let done = 0; done < r.len;) {
        const n = Math.min(WRITE_CHUNK_BLOCKS, r.len - done);
        const lblk = r.lblk + done;
        if (r.pblk && !r.unwritten) {
          await io.writeData(r.pblk + done, await fill(lblk, n, r.pblk + done));
          done += n;
          continue;
        }
        if (r.pblk) {
          // Unwritten (preallocated) blocks: write them whole, then mark them written.
          await io.writeData(r.pblk + done, await fill(lblk, n, 0));
          extents = setRange(extents, lblk, n, r.pblk + done);
          done += n;
          continue;
        }
        // A hole: allocate (in pieces if space is fragmented) and write the new blocks.
        let l = lblk;
        for (const a of await this.store.allocRange(goal, n)) {
          await io.writeData(a.start, await fill(l, a.len, 0));
          extents = setRange(extents, l, a.len, a.start);
          goal = a.start + a.len;
          l += a.len;
        }
        done += n;
      }
    }
    inode.size = Math.max(inode.size, end);
    touch(inode, 'mtime', 'ctime');
    await this.store.commitExtents(inode, extents, mapped.treeBlocks);
    await this.store.writeSuper();
    return data.length;
  }

  async truncate(ino: number, size: number): Promise<void> {
    const io = this.store.fs.io;
    const inode = await this.regularFile(ino);
    const bs = this.store.fs.sb.blockSize;
    if (!Number.isSafeInteger(size) || size < 0 || size > this.store.maxBytes(inode)) throw new FsError('EFBIG', `${this.dev}: size ${size} too large`);
    const { extents, treeBlocks } = await this.store.mapping(inode);
    let list = extents;
    const freed: Extent[] = [];
    if (size < inode.size) {
      const keep = Math.ceil(size / bs);
      for (const r of runsOf(list, keep, 2 ** 32 - keep)) if (r.pblk) freed.push({ lblk: r.lblk, pblk: r.pblk, len: r.len, unwritten: !!r.unwritten });
      list = setRange(list, keep, 2 ** 32 - keep, 0);
      // The rest of the last block must read as zeros if the file grows again.
      const tail = runsOf(list, Math.floor(size / bs), 1)[0]!;
      if (size % bs && tail.pblk && !tail.unwritten) {
        const b = Buffer.from(await io.readBlocks(tail.pblk, 1));
        b.fill(0, size % bs);
        // Through the journal with the size, so a crash cannot leave the old size with a zeroed tail.
        await io.write(tail.pblk, b);
      }
    }
    inode.size = size;
    touch(inode, 'mtime', 'ctime');
    await this.store.commitExtents(inode, list, treeBlocks);
    for (const f of freed) await this.store.alloc.freeBlocks(f.pblk, f.len);
    await this.store.writeSuper();
  }
}
