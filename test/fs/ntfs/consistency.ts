/**
 * Checks ntfsfix does not do: every cluster some attribute's runs use is set in $Bitmap,
 * every set bit belongs to exactly one run (no leaks, no double allocation), and $MFT's
 * $BITMAP marks exactly the records in use.
 */
import { RawFile } from '../../../disk/raw.js';
import { AT } from '../../../fs/ntfs/attribute.js';
import { RECORD_FLAG } from '../../../fs/ntfs/record.js';
import { AttrStream } from '../../../fs/ntfs/stream.js';
import { ntfsDriver } from '../../../fs/ntfs/driver.js';
import type { NtfsFilesystem } from '../../../fs/ntfs/ntfs.js';
import { unlocked } from '../../../fs/locked.js';

export async function clusterProblems(img: string): Promise<string[]> {
  const dev = await RawFile.open(img);
  const fs = unlocked(await ntfsDriver.open(dev)) as NtfsFilesystem;
  const total = fs.boot.totalClusters;
  const owner = new Int32Array(total).fill(-1);
  const problems: string[] = [];
  for (let n = 0; n < fs.mft.recordCount; n++) {
    const rec = await fs.mft.record(n).catch(() => undefined);
    if (!rec || (rec.flags & RECORD_FLAG.IN_USE) === 0) continue;
    for (const a of rec.attrs) {
      for (const r of a.runs) {
        if (r.lcn < 0) continue;
        for (let c = r.lcn; c < r.lcn + r.len; c++) {
          if (owner[c] !== -1 && problems.length < 20) problems.push(`cluster ${c} used by records ${owner[c]} and ${n}`);
          owner[c] = n;
        }
      }
    }
  }
  // $MFT's $BITMAP: a bit set exactly for the records in use (past the reserved first 24).
  const mftBitmap = (await fs.mft.file(0)).find(AT.BITMAP)!;
  const mftBits = await new AttrStream(fs.io, mftBitmap, '$MFT $BITMAP').read(0, mftBitmap.dataSize);
  for (let n = 24; n < fs.mft.recordCount && problems.length < 20; n++) {
    const rec = await fs.mft.record(n).catch(() => undefined);
    const inUse = rec !== undefined && (rec.flags & RECORD_FLAG.IN_USE) !== 0;
    const bit = (mftBits[n >> 3]! & (1 << (n & 7))) !== 0;
    if (inUse !== bit) problems.push(`MFT record ${n}: ${inUse ? 'in use' : 'free'} but its $MFT $BITMAP bit is ${bit ? 'set' : 'clear'}`);
  }
  const bm = await fs.read(6, 0, Math.ceil(total / 8));
  for (let c = 0; c < total && problems.length < 20; c++) {
    const set = (bm[c >> 3]! & (1 << (c & 7))) !== 0;
    if (set !== (owner[c] !== -1)) problems.push(`cluster ${c}: bitmap says ${set ? 'used' : 'free'}, runs say ${owner[c] === -1 ? 'free' : `record ${owner[c]}`}`);
  }
  await dev.close();
  return problems;
}
