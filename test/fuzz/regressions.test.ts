/** Cases bench/fuzz.ts found, replayed alone (same target, seed and case number). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzz } from './runner.js';

const FOUND: [string, number, number, string][] = [
  // NTFS statfs sized a buffer from $MFT's $BITMAP data size (68 GB): RangeError from Buffer.alloc.
  ['mbr', 4242, 28, 'flip bit 6 at 53481408; pointer u32le 16 (unit 65536) at 1065340'],
  // fast-xml-parser's validator passed an OVF its parser then threw on ("Pi Tag is not closed"): not an InputError.
  ['ovf', 7, 1226, 'number at 2547 → 1e309; delete 12 at 19; number at 2286 → 0; byte 214 at 5269'],
  // A newline in an OVF's HostResource reached the error message: two lines.
  ['ovf', 7, 16596, 'number at 3759 → -1; insert "\\n" at 4500'],
  // A newline in a libvirt disk path reached the error message.
  ['libvirtxml', 7, 6050, 'insert "\\n" at 603'],
  // A newline in a tar header's size field reached the error message.
  ['ustar', 7, 46907, 'fill 62 at 7221; pointer u32be 10 (unit 1024) at 10372; byte 13 at 1505; copy 512 bytes from 335520 to 336829'],
  // NTFS's "update sequence array offset … is out of range" read as a JavaScript engine's RangeError.
  ['mbr', 7348, 1270, 'flip bit 0 at 85018527; byte 233 at 26646934; flip bit 5 at 105908528; u16be 65534 at 17844228'],
  ['gpt', 7348, 17866, 'fill 30 at 84951671; byte 193 at 1067013'],
  // A newline in a FAT directory's name reached the error message naming its path.
  ['fat', 7348, 10006, 'fill 47 at 409785; copy 4096 bytes from 1066496 to 953; copy 1024 bytes from 1078853 to 1049784; pointer u64be 0 (unit 512) at 1057280'],
];

for (const [target, seed, at, what] of FOUND) {
  test(`fuzz regression: ${target} seed ${seed} case ${at} (${what}) ends in our error`, { timeout: 120_000 }, async () => {
    const r = await fuzz(target, { seed, from: at, count: 1, caseMs: 60_000 });
    assert.deepEqual(r.findings.map((f) => `${f.kind}: ${f.detail}`), []);
    assert.equal(r.executions, 1);
    assert.equal(r.refused, 1);
  });
}
