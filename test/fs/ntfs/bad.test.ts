import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { test } from 'node:test';
import { AT } from '../../../fs/ntfs/attribute.js';
import { applyFixups } from '../../../fs/ntfs/fixup.js';
import { IndexTree } from '../../../fs/ntfs/index.js';
import { AttrStream } from '../../../fs/ntfs/stream.js';
import { readFile, resolvePath } from '../../../fs/path.js';
import { hashFile } from '../../fixtures/run.js';
import { copyImage, openNtfs, smallImage, withNtfs3g } from './images.js';
import { patch } from '../../fixtures/patch.js';

/** Where on the device record `num` starts, and the attribute `type` in it. */
async function locate(path: string, file: string, type?: number): Promise<{ num: number; record: bigint; attr: number }> {
  const fs = await openNtfs(path);
  const num = (await resolvePath(fs, file, false)).ino;
  const record = fs.mft.dataStream.deviceOffset(num * fs.mft.recordSize)!;
  const attr = type === undefined ? 0 : (await fs.mft.file(num)).all(type)[0]!.offset;
  await fs.dev.close();
  return { num, record, attr };
}

async function peek(path: string, at: bigint, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  const b = Buffer.alloc(n);
  await fh.read(b, 0, n, Number(at));
  await fh.close();
  return b;
}

/** Run `body` on a damaged copy and check not one byte of it was written. */
async function damaged(name: string, damage: (img: string) => Promise<void>, body: (img: string) => Promise<void>): Promise<void> {
  const img = await copyImage(await smallImage(), name);
  await damage(img);
  const before = await hashFile(img);
  await body(img);
  assert.equal(await hashFile(img), before, 'the image is unchanged');
}

test('ntfs bad input: a torn MFT record (fixup mismatch) is EIO naming the record', async () => {
  let num = 0;
  await damaged('torn', async (img) => {
    const l = await locate(img, '/d/e/f');
    num = l.num;
    await patch(img, l.record + 510n, [0x12, 0x34]);
  }, async (img) => {
    const fs = await openNtfs(img);
    const e = await resolvePath(fs, '/d/e');
    await assert.rejects(fs.lookup(e.ino, 'f'), new RegExp(`EIO: .*MFT record ${num}: update sequence mismatch in sector 0 .*at byte \\d+`));
    await fs.dev.close();
  });
});

test('ntfs bad input: a run past the end of the volume is refused', async () => {
  await damaged('runs', async (img) => {
    const l = await locate(img, '/big', AT.DATA);
    const attrAt = l.record + BigInt(l.attr);
    const runsOfs = (await peek(img, attrAt + 32n, 2)).readUInt16LE(0);
    const h = (await peek(img, attrAt + BigInt(runsOfs), 1))[0]!;
    // Keep the length, make the LCN delta huge (and positive).
    const ofsSize = h >> 4;
    const lenSize = h & 15;
    await patch(img, attrAt + BigInt(runsOfs + 1 + lenSize), [...Array(ofsSize - 1).fill(0xff), 0x7f]);
  }, async (img) => {
    const fs = await openNtfs(img);
    await assert.rejects(readFile(fs, '/big'), /EIO: .*MFT record \d+ attribute at offset \d+: run of \d+ clusters at cluster \d+ lies outside the volume of \d+ clusters/);
    await fs.dev.close();
  });
});

test('ntfs bad input: an attribute list naming another file\'s record is refused', async () => {
  await damaged('attrlist', async (img) => {
    const l = await locate(img, '/manyruns', AT.ATTRIBUTE_LIST);
    const fs = await openNtfs(img);
    const f = await fs.mft.file(l.num);
    assert.ok(f.records.length > 1, 'the fixture has extension records');
    const al = f.find(AT.ATTRIBUTE_LIST)!;
    const attrAt = l.record + BigInt(l.attr);
    // Where the list's bytes are: in the record, or in its first cluster.
    const base = al.resident ? attrAt : BigInt(al.runs[0]!.lcn) * BigInt(fs.boot.clusterSize);
    const valueOfs = al.resident ? (await peek(img, attrAt + 20n, 2)).readUInt16LE(0) : 0;
    await fs.dev.close();
    const list = await peek(img, base + BigInt(valueOfs), 512);
    // Point every entry that names an extension record at the root directory (record 5).
    for (let p = 0; p + 26 <= list.length && list.readUInt16LE(p + 4) >= 26;) {
      if (Number(list.readBigUInt64LE(p + 16) & 0xffffffffffffn) !== l.num) await patch(img, base + BigInt(valueOfs + p + 16), [5, 0, 0, 0, 0, 0, 5, 0]);
      p += list.readUInt16LE(p + 4);
    }
  }, async (img) => {
    const fs = await openNtfs(img);
    await assert.rejects(resolvePath(fs, '/manyruns'), /EIO: .*\$ATTRIBUTE_LIST: names record 5, which is not an extension of it \(base 0\)/);
    await fs.dev.close();
  });
});

test('ntfs bad input: an index node with a bad length is refused', async () => {
  let at = 0n;
  await damaged('index', async (img) => {
    const fs = await openNtfs(img);
    const d = await resolvePath(fs, '/d');
    const ia = (await fs.mft.file(d.ino)).find(AT.INDEX_ALLOCATION, '$I30')!;
    at = BigInt(ia.runs[0]!.lcn) * BigInt(fs.boot.clusterSize);
    await fs.dev.close();
    // Index header at 24: entries offset, index length (make it past the node).
    await patch(img, at + 28n, [0, 0, 1, 0]);
  }, async (img) => {
    const fs = await openNtfs(img);
    const d = await resolvePath(fs, '/d');
    await assert.rejects(fs.readdir(d.ino), /EIO: .*MFT record \d+ index \$I30 node at VCN 0: bad index header/);
    await fs.dev.close();
  });
});

test('ntfs bad input: damaged boot sector falls back to the backup; both bad is EIO', async () => {
  await damaged('boot', async (img) => patch(img, 3n, Buffer.from('XXXX')), async (img) => {
    const warnings: string[] = [];
    const fs = await openNtfs(img, { warn: (m) => warnings.push(m) });
    assert.equal((await readFile(fs, '/d/e/f')).toString(), 'hi\n');
    assert.match(warnings.join('\n'), /no "NTFS" signature; using the backup boot sector at byte \d+/);
    await fs.dev.close();
  });
  await damaged('boot2', async (img) => {
    await patch(img, 3n, Buffer.from('XXXX'));
    const size = (await open(img)).stat().then((s) => s.size);
    await patch(img, BigInt(await size) - 512n + 3n, Buffer.from('XXXX'));
  }, async (img) => {
    await assert.rejects(openNtfs(img), /EIO: .*NTFS boot sector: no "NTFS" signature; backup boot sector: no "NTFS" signature \(at byte 0\)/);
  });
});

test('ntfs bad input: a damaged $MFT record 0 is read from $MFTMirr', async () => {
  await damaged('mft0', async (img) => {
    const fs = await openNtfs(img);
    const at = BigInt(fs.boot.mftLcn) * BigInt(fs.boot.clusterSize);
    await fs.dev.close();
    await patch(img, at + 510n, [0xaa, 0xbb]);
  }, async (img) => {
    const warnings: string[] = [];
    const fs = await openNtfs(img, { warn: (m) => warnings.push(m) });
    assert.equal((await readFile(fs, '/d/e/f')).toString(), 'hi\n');
    assert.match(warnings.join('\n'), /MFT record 0 is damaged .*update sequence mismatch.*; using \$MFTMirr/);
    await fs.dev.close();
  });
});

test('ntfs: an encrypted file has attributes but its read is EACCES', async () => {
  await damaged('efs', async (img) => {
    const l = await locate(img, '/d/e/f', AT.STANDARD_INFORMATION);
    const at = l.record + BigInt(l.attr);
    const vofs = (await peek(img, at + 20n, 2)).readUInt16LE(0);
    const flags = (await peek(img, at + BigInt(vofs + 32), 4)).readUInt32LE(0);
    const b = Buffer.alloc(4);
    b.writeUInt32LE(flags | 0x4000);
    await patch(img, at + BigInt(vofs + 32), b);
  }, async (img) => {
    const fs = await openNtfs(img);
    const a = await resolvePath(fs, '/d/e/f');
    assert.equal(a.size, 3);
    await assert.rejects(fs.read(a.ino, 0, 3), /EACCES: .*file is encrypted \(EFS\)/);
    assert.equal((await fs.getxattr(a.ino, 'system.ntfs_attrib')).readUInt32LE(0) & 0x4000, 0x4000);
    await fs.dev.close();
  });
});

test('ntfs: a dirty volume opens read-only with a warning; writable needs force', async () => {
  await damaged('dirty', async (img) => {
    const l = await locate(img, '/$Volume', AT.VOLUME_INFORMATION);
    const at = l.record + BigInt(l.attr);
    const vofs = (await peek(img, at + 20n, 2)).readUInt16LE(0);
    await patch(img, at + BigInt(vofs + 10), [1, 0]);
  }, async (img) => {
    const warnings: string[] = [];
    const fs = await openNtfs(img, { warn: (m) => warnings.push(m) });
    assert.equal(fs.writable, false);
    assert.match(warnings.join('\n'), /volume is marked dirty; mounted read-only/);
    await fs.dev.close();
    await assert.rejects(openNtfs(img, { writable: true }), /EROFS: .*volume is marked dirty; refusing to write \(mount read-only, or pass option force\)/);
  });
});

test('ntfs: a hibernated Windows (hiberfil.sys "hibr") opens read-only with a warning', async () => {
  await damaged('hiber', async (img) => {
    await withNtfs3g(img, 'rw', async (mnt) => {
      const fh = await open(`${mnt}/hiberfil.sys`, 'w');
      await fh.write(Buffer.concat([Buffer.from('hibr'), Buffer.alloc(8188)]));
      await fh.close();
    });
  }, async (img) => {
    const warnings: string[] = [];
    const fs = await openNtfs(img, { warn: (m) => warnings.push(m) });
    assert.match(warnings.join('\n'), /Windows is hibernated \(hiberfil.sys\); mounted read-only/);
    await fs.dev.close();
    await assert.rejects(openNtfs(img, { writable: true }), /EROFS: .*hibernated/);
  });
});

test('ntfs: when hiberfil.sys cannot be read, the volume counts as hibernated (read-only with a warning)', async () => {
  await damaged('hiber-unreadable', async (img) => {
    await withNtfs3g(img, 'rw', async (mnt) => {
      const fh = await open(`${mnt}/hiberfil.sys`, 'w');
      await fh.write(Buffer.concat([Buffer.from('hibr'), Buffer.alloc(8188)]));
      await fh.close();
    });
    // Tear its MFT record: looking it up fails with EIO.
    await patch(img, (await locate(img, '/hiberfil.sys')).record + 510n, [0x12, 0x34]);
  }, async (img) => {
    const warnings: string[] = [];
    const fs = await openNtfs(img, { warn: (m) => warnings.push(m) });
    assert.match(warnings.join('\n'), /cannot tell whether Windows is hibernated \(hiberfil.sys: EIO: .*update sequence mismatch.*\); mounted read-only/);
    await fs.dev.close();
    await assert.rejects(openNtfs(img, { writable: true }), /EROFS: .*cannot tell whether Windows is hibernated/);
  });
});

test('ntfs bad input: a damaged $Secure record is EIO for system.ntfs_acl, not "no security descriptor"', async () => {
  await damaged('secure', async (img) => {
    const fs = await openNtfs(img);
    const at = fs.mft.dataStream.deviceOffset(9 * fs.mft.recordSize)!;
    await fs.dev.close();
    await patch(img, at + 510n, [0x12, 0x34]);
  }, async (img) => {
    const fs = await openNtfs(img);
    // ntfs-3g gives the files it makes their own descriptor; $Extend (record 11) uses $Secure's.
    assert.equal((await fs.mft.file(11)).has(AT.SECURITY_DESCRIPTOR), false);
    await assert.rejects(fs.getxattr(11, 'system.ntfs_acl'), /EIO: .*MFT record 9: update sequence mismatch/);
    await fs.dev.close();
  });
});

test('ntfs bad input: an index node that is its own child (a loop) is refused, no hang', async () => {
  await damaged('index-loop', async (img) => {
    const fs = await openNtfs(img);
    const d = await resolvePath(fs, '/d');
    const file = await fs.mft.file(d.ino);
    const tree = await IndexTree.open(fs.io, file, '$I30');
    const inner = tree.root.entries[tree.root.entries.length - 1]!.child!;
    const alloc = new AttrStream(fs.io, file.find(AT.INDEX_ALLOCATION, '$I30')!, 'test');
    const vcnSize = tree.blockSize < fs.boot.clusterSize ? 512 : fs.boot.clusterSize;
    const at = alloc.deviceOffset(inner * vcnSize)!;
    const block = await alloc.read(inner * vcnSize, tree.blockSize);
    await fs.dev.close();
    applyFixups(block, img, 'test', at);
    // The first child pointer whose 8 bytes do not touch a fixup position.
    let target = -1;
    for (let p = 24 + block.readUInt32LE(24); ;) {
      const len = block.readUInt16LE(p + 8);
      const flags = block.readUInt16LE(p + 12);
      const c = p + len - 8;
      if (flags & 1 && Math.floor(c / 512) === Math.floor((c + 7) / 512) && (c + 8) % 512 <= 510 && (c + 8) % 512 !== 0) {
        target = c;
        break;
      }
      if (flags & 2) break;
      p += len;
    }
    assert.ok(target > 0, 'the inner node has a child pointer to patch');
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(inner));
    await patch(img, at + BigInt(target), b);
  }, async (img) => {
    const fs = await openNtfs(img);
    const d = await resolvePath(fs, '/d');
    await assert.rejects(fs.readdir(d.ino), /EIO: .*index \$I30: node at VCN \d+ is referenced twice \(a loop\)/);
    await fs.dev.close();
  });
});

test('ntfs: a $LogFile with transactions not replayed opens read-only with a warning', async () => {
  await damaged('logfile', async (img) => {
    const fs = await openNtfs(img);
    const log = (await fs.mft.file(2)).find(AT.DATA)!;
    const at = BigInt(log.runs[0]!.lcn) * BigInt(fs.boot.clusterSize);
    await fs.dev.close();
    // A restart page whose restart area has a client in use and no "clean" flag.
    const page = Buffer.alloc(512);
    page.write('RSTR', 0, 'latin1');
    page.writeUInt16LE(0x1e, 4);
    page.writeUInt16LE(9, 6);
    page.writeUInt32LE(4096, 16);
    page.writeUInt32LE(4096, 20);
    page.writeUInt16LE(0x30, 24);
    page.writeUInt16LE(0, 0x30 + 12);
    page.writeUInt16LE(0, 0x30 + 14);
    await patch(img, at, page);
  }, async (img) => {
    const warnings: string[] = [];
    const fs = await openNtfs(img, { warn: (m) => warnings.push(m) });
    assert.equal((await readFile(fs, '/d/e/f')).toString(), 'hi\n');
    assert.match(warnings.join('\n'), /\$LogFile holds transactions that were not replayed \(unclean shutdown\); mounted read-only/);
    await fs.dev.close();
    await assert.rejects(openNtfs(img, { writable: true }), /EROFS: .*\$LogFile holds transactions/);
    const forced = await openNtfs(img, { writable: true, options: { force: true }, warn: (m) => warnings.push(m) });
    assert.equal(forced.writable, true);
    assert.match(warnings.join('\n'), /writing anyway \(force\)/);
    await forced.dev.close();
  });
});
