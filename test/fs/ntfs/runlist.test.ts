import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRuns, encodeRuns, type Run } from '../../../fs/ntfs/runlist.js';

const ctx = { device: 'test.img', what: 'test runlist', at: 1000n, totalClusters: 1 << 30 };

test('ntfs runlist: encode then decode gives the runs back; lengths and deltas are signed', () => {
  const runs: Run[] = [
    { vcn: 0, lcn: 830, len: 1 },
    { vcn: 1, lcn: 833, len: 135 },
    { vcn: 136, lcn: -1, len: 40000 },
    { vcn: 40136, lcn: 20, len: 0x80 },
    { vcn: 40264, lcn: 70000, len: 3 },
  ];
  const b = encodeRuns(runs);
  assert.deepEqual(decodeRuns(b, 0, 40266, ctx), runs);
  // 135 = 0x87 needs a second byte, or readers that sign-extend (ntfs-3g) see a negative length.
  assert.equal(b[b.indexOf(0x87) - 1]! & 0x0f, 2);
  assert.equal(b[b.length - 1], 0);
});

test('ntfs runlist: runs past the volume and VCN mismatches are refused with the offset', () => {
  const b = encodeRuns([{ vcn: 0, lcn: 100, len: 10 }]);
  assert.throws(() => decodeRuns(b, 0, 9, { ...ctx, totalClusters: 105 }), /test.img: test runlist: run of 10 clusters at cluster 100 lies outside the volume of 105 clusters \(at byte 1000\)/);
  assert.throws(() => decodeRuns(b, 0, 20, ctx), /runlist covers VCNs 0..9, header says 0..20/);
  assert.throws(() => decodeRuns(Buffer.from([0x11, 5]), 0, 4, ctx), /runlist runs past its attribute/);
});
