/**
 * Enough of Berkeley DB's hash access method to read every key/data pair of a database held
 * in memory (rpm's `Packages` before rpm 4.16): the metadata page, hash pages, and overflow
 * chains for big items. Pages are read in order rather than bucket by bucket, as rpm's own
 * read-only backend (bdb_ro) does. Either byte order; bounded: a page outside the file, an
 * item outside its page, or a looping overflow chain is an error naming the page.
 */

const HASH_MAGIC = 0x061561;
const PAGE_HEADER = 26;
const P_HASH_UNSORTED = 2;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_OFFPAGE = 3;
const P_OVERFLOW = 7;
/** A bigger item is not a package header. */
const MAX_ITEM = 64 << 20;

export class BdbHash {
  private readonly le: boolean;
  private readonly pageSize: number;
  private readonly lastPage: number;

  constructor(
    private readonly buf: Buffer,
    private readonly name: string,
  ) {
    if (buf.length < 512) throw this.error(0, 'too small for a Berkeley DB metadata page');
    this.le = buf.readUInt32LE(12) === HASH_MAGIC;
    if (!this.le && buf.readUInt32BE(12) !== HASH_MAGIC) throw this.error(0, 'not a Berkeley DB hash database (magic at byte 12)');
    this.pageSize = this.u32(20);
    if (this.pageSize < 512 || this.pageSize > 65536 || (this.pageSize & (this.pageSize - 1)) !== 0) throw this.error(0, `page size ${this.pageSize}`);
    this.lastPage = Math.min(this.u32(32), Math.floor(buf.length / this.pageSize) - 1);
  }

  private u32(at: number): number {
    return this.le ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at);
  }

  private u16(at: number): number {
    return this.le ? this.buf.readUInt16LE(at) : this.buf.readUInt16BE(at);
  }

  private error(page: number, what: string): Error {
    return new Error(`${this.name}: Berkeley DB page ${page}: ${what} (at byte ${page * this.pageSize})`);
  }

  /** Every key/data pair, in page order. */
  entries(): { key: Buffer; data: Buffer }[] {
    const out: { key: Buffer; data: Buffer }[] = [];
    for (let page = 1; page <= this.lastPage; page++) {
      const base = page * this.pageSize;
      const type = this.buf[base + 25];
      if (type !== P_HASH && type !== P_HASH_UNSORTED) continue;
      const n = this.u16(base + 20);
      if (PAGE_HEADER + n * 2 > this.pageSize) throw this.error(page, `${n} items do not fit`);
      const items: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        const start = this.u16(base + PAGE_HEADER + i * 2);
        const end = i === 0 ? this.pageSize : this.u16(base + PAGE_HEADER + (i - 1) * 2);
        if (start < PAGE_HEADER + n * 2 || end > this.pageSize || start >= end) throw this.error(page, `item ${i} lies outside its page`);
        items.push(this.item(page, this.buf.subarray(base + start, base + end)));
      }
      for (let i = 0; i + 1 < items.length; i += 2) out.push({ key: items[i]!, data: items[i + 1]! });
    }
    return out;
  }

  private item(page: number, raw: Buffer): Buffer {
    if (raw[0] === H_KEYDATA) return raw.subarray(1);
    if (raw[0] !== H_OFFPAGE || raw.length < 12) throw this.error(page, `item type ${raw[0]} (duplicates are not used by rpm)`);
    let next = this.le ? raw.readUInt32LE(4) : raw.readUInt32BE(4);
    const total = this.le ? raw.readUInt32LE(8) : raw.readUInt32BE(8);
    if (total > MAX_ITEM) throw this.error(page, `overflow item of ${total} bytes`);
    const parts: Buffer[] = [];
    let got = 0;
    const seen = new Set<number>();
    while (got < total) {
      if (next < 1 || next > this.lastPage || seen.has(next)) throw this.error(page, `overflow chain reaches page ${next}`);
      seen.add(next);
      const base = next * this.pageSize;
      if (this.buf[base + 25] !== P_OVERFLOW) throw this.error(next, 'overflow chain reaches a page that is not an overflow page');
      const len = Math.min(this.u16(base + 22), this.pageSize - PAGE_HEADER, total - got);
      parts.push(this.buf.subarray(base + PAGE_HEADER, base + PAGE_HEADER + len));
      got += len;
      next = this.u32(base + 16);
      if (len === 0) break;
    }
    if (got !== total) throw this.error(page, `overflow chain holds ${got} of ${total} bytes`);
    return Buffer.concat(parts);
  }
}
