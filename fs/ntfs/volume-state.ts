/**
 * Is it safe to write? A volume Windows did not shut down cleanly (dirty flag in $Volume, a
 * $LogFile with unreplayed transactions) or left hibernated (hiberfil.sys starting 'hibr')
 * may hold changes that are not on disk yet: ntfs-3g refuses to write such a volume.
 */
import { AT } from './attribute.js';
import type { Mft } from './mft.js';
import type { MftRecord } from './record.js';
import { AttrStream } from './stream.js';

const LOGFILE = 2;
const VOLUME = 3;
const VOLUME_IS_DIRTY = 0x0001;
const RESTART_VOLUME_IS_CLEAN = 0x0002;
const LOGFILE_NO_CLIENT = 0xffff;

export interface VolumeInfo {
  label: string;
  major: number;
  minor: number;
  dirty: boolean;
}

export async function volumeInfo(mft: Mft): Promise<VolumeInfo> {
  const f = await mft.file(VOLUME);
  const name = f.residentValue(AT.VOLUME_NAME);
  const info = f.residentValue(AT.VOLUME_INFORMATION);
  return {
    label: name ? name.toString('utf16le') : '',
    major: info && info.length >= 12 ? info[8]! : 0,
    minor: info && info.length >= 12 ? info[9]! : 0,
    dirty: info !== undefined && info.length >= 12 && (info.readUInt16LE(10) & VOLUME_IS_DIRTY) !== 0,
  };
}

/**
 * Set or clear the volume dirty flag in $Volume's $VOLUME_INFORMATION, as Linux's ntfs3 does
 * for a read-write mount: Windows runs chkdsk on a volume left dirty by a crash. `write`
 * writes the changed record. Answers whether the flag was set before (undefined: no
 * $VOLUME_INFORMATION to mark).
 */
export async function setVolumeDirty(mft: Mft, dirty: boolean, write: (rec: MftRecord) => Promise<void>): Promise<boolean | undefined> {
  const f = await mft.file(VOLUME);
  const a = f.all(AT.VOLUME_INFORMATION)[0];
  if (!a?.resident || !a.value || a.value.length < 12) return undefined;
  const flags = a.value.readUInt16LE(10);
  const was = (flags & VOLUME_IS_DIRTY) !== 0;
  if (was === dirty) return was;
  // The value is a view of its record: change it there and write that record.
  a.value.writeUInt16LE(dirty ? flags | VOLUME_IS_DIRTY : flags & ~VOLUME_IS_DIRTY, 10);
  await write(f.records.find((r) => r.number === a.record)!);
  return was;
}

/** Why $LogFile is not clean, or undefined when it is. */
export async function logFileProblem(mft: Mft): Promise<string | undefined> {
  const f = await mft.file(LOGFILE);
  const data = f.find(AT.DATA);
  if (!data || data.dataSize < 4096) return '$LogFile is missing or too small';
  const page = await new AttrStream(mft.io, data, '$LogFile').read(0, 4096);
  const magic = page.toString('latin1', 0, 4);
  // An all-0xFF page is an emptied log (mkntfs, ntfsfix): clean.
  if (page.readUInt32LE(0) === 0xffffffff) return undefined;
  if (magic !== 'RSTR') return `$LogFile restart page has magic ${JSON.stringify(magic)}`;
  const raOfs = page.readUInt16LE(24);
  if (raOfs + 16 > page.length) return '$LogFile restart area offset out of range';
  const inUse = page.readUInt16LE(raOfs + 12);
  const flags = page.readUInt16LE(raOfs + 14);
  if (inUse !== LOGFILE_NO_CLIENT && (flags & RESTART_VOLUME_IS_CLEAN) === 0) return '$LogFile holds transactions that were not replayed (unclean shutdown)';
  return undefined;
}
