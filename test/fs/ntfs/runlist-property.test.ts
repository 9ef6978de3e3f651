import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FsError } from '../../../fs/errors.js';
import { decodeRuns, encodeRuns, MAX_VCN, type Run } from '../../../fs/ntfs/runlist.js';

const TOTAL = 2 ** 44;
const ctx = { device: 'prop.img', what: 'runlist', at: 4096n, totalClusters: TOTAL };

/** Runs as a volume could hold them: lengths to 2^32, LCNs anywhere on a 2^44-cluster volume, some sparse. */
const runsArb = fc
  .array(fc.record({ len: fc.integer({ min: 1, max: 2 ** 32 }), lcn: fc.option(fc.integer({ min: 0, max: TOTAL - 2 ** 32 - 1 }), { freq: 4 }) }), { minLength: 1, maxLength: 40 })
  .chain((raw) => fc.integer({ min: 0, max: 2 ** 40 }).map((start) => {
    let vcn = start;
    return raw.map(({ len, lcn }): Run => {
      const r = { vcn, lcn: lcn ?? -1, len };
      vcn += len;
      return r;
    });
  }));

test('ntfs runlist: any runs encode and decode back exactly (signed deltas both ways, sparse runs)', () => {
  fc.assert(
    fc.property(runsArb, (runs) => {
      const last = runs[runs.length - 1]!;
      const b = encodeRuns(runs);
      assert.deepEqual(decodeRuns(b, runs[0]!.vcn, last.vcn + last.len - 1, ctx), runs);
      assert.equal(b[b.length - 1], 0);
    }),
    { numRuns: 1000, seed: 13 },
  );
});

test('ntfs runlist: any bytes decode to contiguous runs inside the volume, or an FsError naming the runlist', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: -1, max: 2 ** 20 }), (bytes, start, span) => {
      try {
        const runs = decodeRuns(Buffer.from(bytes), start, start + span, { ...ctx, totalClusters: 2 ** 20 });
        let vcn = start;
        for (const r of runs) {
          assert.equal(r.vcn, vcn);
          assert.ok(r.len > 0 && r.len <= MAX_VCN);
          assert.ok(r.lcn === -1 || (r.lcn >= 0 && r.lcn + r.len <= 2 ** 20));
          vcn += r.len;
        }
      } catch (e) {
        assert.ok(e instanceof FsError, String(e));
        assert.match(e.message, /^EIO: prop\.img: runlist: .*\(at byte \d+\)$/);
      }
    }),
    { numRuns: 3000, seed: 14 },
  );
});
