import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeLfn, isLfnSlot, LfnCollector, lfnChecksum } from '../../../fs/fat/lfn.js';
import { scratch } from '../../fixtures/cache.js';
import { run } from '../../fixtures/run.js';
import { mtools } from './tools.js';

const name11 = fc.uint8Array({ minLength: 11, maxLength: 11 });
const longName = fc.string({ unit: 'binary', minLength: 1, maxLength: 255 }).filter((s) => !s.includes('\0'));

/** The long name the slots give for a short entry, as a directory scan collects it. */
function collect(slots: Buffer[], short: Uint8Array): string | undefined {
  const c = new LfnCollector();
  slots.forEach((s, i) => c.add(s, i));
  return c.take(short)?.name;
}

test('fat lfn: any name encodes to slots that collect back to it for its short entry, and to nothing for another checksum', () => {
  fc.assert(
    fc.property(longName, name11, name11, (name, short, other) => {
      const slots = encodeLfn(name, short);
      assert.ok(slots.every((s) => isLfnSlot(s) && s[13] === lfnChecksum(short)));
      assert.equal(collect(slots, short), name);
      if (lfnChecksum(other) !== lfnChecksum(short)) assert.equal(collect(slots, other), undefined);
      // A slot lost from the middle of the run loses the name.
      if (slots.length > 2) assert.equal(collect([slots[0]!, ...slots.slice(2)], short), undefined);
    }),
    { numRuns: 1000, seed: 19 },
  );
});

/** Characters mtools keeps in a long name as they are (it turned one name holding "~" and "@" into a bare short name). */
const safeChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=,;[]{}()!#$^& ');

test('fat lfn: the slots mtools writes for random long names are the ones we encode, checksums included', async () => {
  const dir = await scratch('lfn-mtools');
  const img = join(dir, 'fat16.img');
  await run('mkfs.vfat', ['-C', '-F', '16', img, '20480']);
  const names = [...new Set(fc.sample(fc.array(safeChar, { minLength: 13, maxLength: 120 }).map((a) => `x${a.join('').trim()}y`), { numRuns: 40, seed: 20 }))];
  for (const [i, n] of names.entries()) {
    await writeFile(join(dir, 'src'), String(i));
    await mtools('mcopy', ['-i', img, join(dir, 'src'), `::/${n}`]);
  }
  const b = await readFile(img);
  const sector = b.readUInt16LE(11);
  const rootAt = (b.readUInt16LE(14) + b[16]! * b.readUInt16LE(22)) * sector;
  const root = b.subarray(rootAt, rootAt + b.readUInt16LE(17) * 32);
  const found = new Map<string, number>();
  let run0 = 0;
  for (let i = 0; i < root.length / 32 && root[i * 32] !== 0; i++) {
    const e = root.subarray(i * 32, i * 32 + 32);
    if (isLfnSlot(e)) continue;
    const short = e.subarray(0, 11);
    const slots = Array.from({ length: i - run0 }, (_, k) => root.subarray((run0 + k) * 32, (run0 + k + 1) * 32));
    const name = collect(slots, short);
    assert.ok(name !== undefined, `entry ${i} has its long name`);
    assert.deepEqual(Buffer.concat(encodeLfn(name, short)), Buffer.concat(slots), `slots of "${name}"`);
    found.set(name, i);
    run0 = i + 1;
  }
  assert.deepEqual([...found.keys()].sort(), [...names].sort());
});
