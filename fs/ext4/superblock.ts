/** The ext2/3/4 superblock (1024 bytes at byte 1024): parsed, checked, and re-encoded on write. */
import type { BlockDevice } from '../../disk/block-device.js';
import { corrupt, FsError } from '../errors.js';
import { COMPAT, EXT4_MAGIC, INCOMPAT, READABLE_INCOMPAT, RO_COMPAT, SUPERBLOCK_OFFSET } from './constants.js';
import { crc32c } from './crc32c.js';

const SB_SIZE = 1024;
/** Field offsets inside the superblock. */
const F = {
  inodesCount: 0x0, blocksCountLo: 0x4, rBlocksCountLo: 0x8, freeBlocksLo: 0xc, freeInodes: 0x10,
  firstDataBlock: 0x14, logBlockSize: 0x18, logClusterSize: 0x1c, blocksPerGroup: 0x20,
  clustersPerGroup: 0x24, inodesPerGroup: 0x28, mtime: 0x2c, wtime: 0x30, mntCount: 0x34, magic: 0x38, state: 0x3a, revLevel: 0x4c,
  firstIno: 0x54, inodeSize: 0x58, featureCompat: 0x5c, featureIncompat: 0x60, featureRoCompat: 0x64,
  uuid: 0x68, volumeName: 0x78, reservedGdtBlocks: 0xce, journalInum: 0xe0, journalDev: 0xe4,
  hashSeed: 0xec, defHashVersion: 0xfc, descSize: 0xfe, firstMetaBg: 0x104, blocksCountHi: 0x150,
  rBlocksCountHi: 0x154, freeBlocksHi: 0x158, minExtraIsize: 0x15c, wantExtraIsize: 0x15e, flags: 0x160,
  logGroupsPerFlex: 0x174, checksumType: 0x175, backupBgs: 0x24c, checksumSeed: 0x270, checksum: 0x3fc,
} as const;

/** s_state: cleanly unmounted. */
const STATE_VALID = 0x0001;
/** s_flags: directory hashes treat name bytes as unsigned chars. */
const FLAG_UNSIGNED_HASH = 0x2;

export class Superblock {
  readonly raw: Buffer;
  readonly blockSize: number;
  readonly clusterRatio: number;
  readonly blocksCount: bigint;
  readonly firstDataBlock: number;
  readonly blocksPerGroup: number;
  readonly inodesPerGroup: number;
  readonly inodesCount: number;
  readonly inodeSize: number;
  readonly firstIno: number;
  readonly groupCount: number;
  readonly descSize: number;
  readonly compat: number;
  readonly incompat: number;
  readonly roCompat: number;
  readonly uuid: Buffer;
  readonly hashSeed: number[];
  readonly defHashVersion: number;
  readonly unsignedHash: boolean;
  readonly journalInum: number;
  readonly firstMetaBg: number;
  readonly reservedGdtBlocks: number;
  readonly wantExtraIsize: number;
  /** Seed of every metadata_csum checksum: crc32c(~0, uuid) or the stored s_checksum_seed. */
  readonly csumSeed: number;

  constructor(raw: Buffer, name: string) {
    this.raw = raw;
    const at = (f: number): bigint => BigInt(SUPERBLOCK_OFFSET + f);
    if (raw.readUInt16LE(F.magic) !== EXT4_MAGIC) throw corrupt(name, 'ext4 superblock', 'bad magic', at(F.magic));
    this.compat = raw.readUInt32LE(F.featureCompat);
    this.incompat = raw.readUInt32LE(F.featureIncompat);
    this.roCompat = raw.readUInt32LE(F.featureRoCompat);
    const unknown = this.incompat & ~READABLE_INCOMPAT;
    if (unknown) {
      throw new FsError('ENOTSUP', `${name}: ext4 superblock: unsupported INCOMPAT features 0x${unknown.toString(16)} (${describeIncompat(unknown)}); refusing to open`);
    }
    if (this.hasRo(RO_COMPAT.METADATA_CSUM)) {
      const want = crc32c(0xffffffff, raw, 0, F.checksum);
      if (raw.readUInt32LE(F.checksum) !== want) throw corrupt(name, 'ext4 superblock', 'checksum mismatch', at(F.checksum));
    }
    const logBlock = raw.readUInt32LE(F.logBlockSize);
    if (logBlock > 6) throw corrupt(name, 'ext4 superblock', `s_log_block_size ${logBlock} out of range`, at(F.logBlockSize));
    this.blockSize = 1024 << logBlock;
    const logCluster = raw.readUInt32LE(F.logClusterSize);
    this.clusterRatio = this.hasRo(RO_COMPAT.BIGALLOC) && logCluster >= logBlock && logCluster - logBlock < 16 ? 1 << (logCluster - logBlock) : 1;
    const is64 = (this.incompat & INCOMPAT.BIT64) !== 0;
    this.blocksCount = BigInt(raw.readUInt32LE(F.blocksCountLo)) + (is64 ? BigInt(raw.readUInt32LE(F.blocksCountHi)) << 32n : 0n);
    this.firstDataBlock = raw.readUInt32LE(F.firstDataBlock);
    this.blocksPerGroup = raw.readUInt32LE(F.blocksPerGroup);
    this.inodesPerGroup = raw.readUInt32LE(F.inodesPerGroup);
    this.inodesCount = raw.readUInt32LE(F.inodesCount);
    const rev = raw.readUInt32LE(F.revLevel);
    this.inodeSize = rev === 0 ? 128 : raw.readUInt16LE(F.inodeSize);
    this.firstIno = rev === 0 ? 11 : raw.readUInt32LE(F.firstIno);
    this.descSize = is64 ? raw.readUInt16LE(F.descSize) : 32;
    if (this.blocksPerGroup === 0 || this.blocksPerGroup > this.blockSize * 8 * this.clusterRatio) {
      throw corrupt(name, 'ext4 superblock', `s_blocks_per_group ${this.blocksPerGroup} out of range`, at(F.blocksPerGroup));
    }
    if (this.inodesPerGroup === 0 || this.inodesPerGroup > this.blockSize * 8) {
      throw corrupt(name, 'ext4 superblock', `s_inodes_per_group ${this.inodesPerGroup} out of range`, at(F.inodesPerGroup));
    }
    if (this.inodeSize < 128 || this.inodeSize > this.blockSize || (this.inodeSize & (this.inodeSize - 1)) !== 0) {
      throw corrupt(name, 'ext4 superblock', `s_inode_size ${this.inodeSize} invalid`, at(F.inodeSize));
    }
    if (is64 && (this.descSize < 64 || this.descSize > 1024 || (this.descSize & (this.descSize - 1)) !== 0)) {
      throw corrupt(name, 'ext4 superblock', `s_desc_size ${this.descSize} invalid`, at(F.descSize));
    }
    if (this.firstDataBlock > 1 || (this.firstDataBlock === 1 && this.blockSize > 1024)) {
      throw corrupt(name, 'ext4 superblock', `s_first_data_block ${this.firstDataBlock} invalid`, at(F.firstDataBlock));
    }
    if (this.blocksCount <= BigInt(this.firstDataBlock)) {
      throw corrupt(name, 'ext4 superblock', `s_blocks_count ${this.blocksCount} too small`, at(F.blocksCountLo));
    }
    const groups = (this.blocksCount - BigInt(this.firstDataBlock) + BigInt(this.blocksPerGroup) - 1n) / BigInt(this.blocksPerGroup);
    if (groups > 1n << 32n || groups * BigInt(this.inodesPerGroup) !== BigInt(this.inodesCount)) {
      throw corrupt(name, 'ext4 superblock', `s_inodes_count ${this.inodesCount} does not match ${groups} groups of ${this.inodesPerGroup} inodes`, at(F.inodesCount));
    }
    this.groupCount = Number(groups);
    this.firstIno = Math.max(this.firstIno, 11);
    this.uuid = Buffer.from(raw.subarray(F.uuid, F.uuid + 16));
    this.hashSeed = [0, 1, 2, 3].map((i) => raw.readUInt32LE(F.hashSeed + 4 * i));
    this.defHashVersion = raw.readUInt8(F.defHashVersion);
    this.unsignedHash = (raw.readUInt32LE(F.flags) & FLAG_UNSIGNED_HASH) !== 0;
    this.journalInum = this.hasCompat(COMPAT.HAS_JOURNAL) ? raw.readUInt32LE(F.journalInum) : 0;
    this.firstMetaBg = raw.readUInt32LE(F.firstMetaBg);
    this.reservedGdtBlocks = raw.readUInt16LE(F.reservedGdtBlocks);
    this.wantExtraIsize = raw.readUInt16LE(F.wantExtraIsize);
    this.csumSeed = this.has(INCOMPAT.CSUM_SEED) ? raw.readUInt32LE(F.checksumSeed) : crc32c(0xffffffff, this.uuid);
  }

  static async read(dev: BlockDevice): Promise<Superblock> {
    if (dev.size < BigInt(SUPERBLOCK_OFFSET + SB_SIZE)) throw corrupt(dev.name, 'ext4 superblock', `device of ${dev.size} bytes is too small`);
    return new Superblock(await dev.read(BigInt(SUPERBLOCK_OFFSET), SB_SIZE), dev.name);
  }

  has(incompat: number): boolean {
    return (this.incompat & incompat) !== 0;
  }

  hasRo(roCompat: number): boolean {
    return (this.roCompat & roCompat) !== 0;
  }

  hasCompat(compat: number): boolean {
    return (this.compat & compat) !== 0;
  }

  get metadataCsum(): boolean {
    return this.hasRo(RO_COMPAT.METADATA_CSUM);
  }

  /** As blkid (and so libguestfs's vfs-type) names it: any feature ext3 lacks makes it ext4. */
  get fsType(): 'ext2' | 'ext3' | 'ext4' {
    const ext3Incompat = INCOMPAT.FILETYPE | INCOMPAT.RECOVER | INCOMPAT.META_BG;
    const ext3RoCompat = RO_COMPAT.SPARSE_SUPER | RO_COMPAT.LARGE_FILE | RO_COMPAT.BTREE_DIR;
    const ext4 = (this.incompat & ~ext3Incompat) !== 0 || (this.roCompat & ~ext3RoCompat) !== 0;
    return ext4 ? 'ext4' : this.hasCompat(COMPAT.HAS_JOURNAL) ? 'ext3' : 'ext2';
  }

  get label(): string {
    const b = this.raw.subarray(F.volumeName, F.volumeName + 16);
    const end = b.indexOf(0);
    return b.subarray(0, end < 0 ? 16 : end).toString('utf8');
  }

  get uuidString(): string {
    const h = this.uuid.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  get reservedBlocks(): bigint {
    return BigInt(this.raw.readUInt32LE(F.rBlocksCountLo)) + (this.has(INCOMPAT.BIT64) ? BigInt(this.raw.readUInt32LE(F.rBlocksCountHi)) << 32n : 0n);
  }

  get freeBlocks(): bigint {
    return BigInt(this.raw.readUInt32LE(F.freeBlocksLo)) + (this.has(INCOMPAT.BIT64) ? BigInt(this.raw.readUInt32LE(F.freeBlocksHi)) << 32n : 0n);
  }

  set freeBlocks(v: bigint) {
    this.raw.writeUInt32LE(Number(v & 0xffffffffn), F.freeBlocksLo);
    if (this.has(INCOMPAT.BIT64)) this.raw.writeUInt32LE(Number(v >> 32n), F.freeBlocksHi);
  }

  get freeInodes(): number {
    return this.raw.readUInt32LE(F.freeInodes);
  }

  set freeInodes(v: number) {
    this.raw.writeUInt32LE(v, F.freeInodes);
  }

  /** Set or clear an INCOMPAT bit in the raw copy (needs_recovery after a replay). */
  setIncompat(bit: number, on: boolean): void {
    const v = on ? this.incompat | bit : this.incompat & ~bit;
    (this as { incompat: number }).incompat = v >>> 0;
    this.raw.writeUInt32LE(v >>> 0, F.featureIncompat);
  }

  /** The superblock bytes to write back, with a fresh checksum. */
  /**
   * Mark a read-write mount as the kernel does: s_state loses VALID_FS (so a crash before the
   * unmount gets an fsck at the next boot), the mount count and time move on. Answers whether
   * the filesystem was clean, which is what markUnmounted restores.
   */
  markMounted(nowSec: number): boolean {
    const state = this.raw.readUInt16LE(F.state);
    this.raw.writeUInt16LE(state & ~STATE_VALID, F.state);
    this.raw.writeUInt16LE((this.raw.readUInt16LE(F.mntCount) + 1) & 0xffff, F.mntCount);
    this.raw.writeUInt32LE(nowSec >>> 0, F.mtime);
    return (state & STATE_VALID) !== 0;
  }

  markUnmounted(): void {
    this.raw.writeUInt16LE(this.raw.readUInt16LE(F.state) | STATE_VALID, F.state);
  }

  encode(): Buffer {
    if (this.metadataCsum) this.raw.writeUInt32LE(crc32c(0xffffffff, this.raw, 0, F.checksum), F.checksum);
    return this.raw;
  }

  /** Does group `g` hold a superblock backup (and so a group descriptor table copy)? */
  hasSuperBackup(g: number): boolean {
    if (g === 0) return true;
    if (this.hasCompat(COMPAT.SPARSE_SUPER2)) {
      return g === this.raw.readUInt32LE(F.backupBgs) || g === this.raw.readUInt32LE(F.backupBgs + 4);
    }
    if (!this.hasRo(RO_COMPAT.SPARSE_SUPER) || g === 1) return true;
    for (const p of [3, 5, 7]) {
      let n = p;
      while (n < g) n *= p;
      if (n === g) return true;
    }
    return false;
  }
}

function describeIncompat(bits: number): string {
  const names = Object.entries(INCOMPAT).filter(([, v]) => bits & v).map(([k]) => k.toLowerCase());
  const rest = bits & ~Object.values(INCOMPAT).reduce((a, b) => a | b, 0);
  if (rest) names.push(`unknown 0x${rest.toString(16)}`);
  return names.join(', ');
}
