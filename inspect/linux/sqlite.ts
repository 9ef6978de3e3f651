/**
 * Enough of the SQLite file format to read every row of one table from a database held in
 * memory (rpm's rpmdb.sqlite): the header, the schema on page 1, table B-trees with their
 * overflow chains, and records. Read-only and bounded: a page number outside the file, a
 * page met twice, or a payload running past its pages is an error naming the page.
 * See https://www.sqlite.org/fileformat2.html.
 */

const MAGIC = 'SQLite format 3\0';
const HEADER = 100;
const TABLE_INTERIOR = 5;
const TABLE_LEAF = 13;
/** A row larger than this is not a package header. */
const MAX_PAYLOAD = 64 << 20;
/** SQLite's own trees stay far shallower; deeper is a loop through distinct pages. */
const MAX_DEPTH = 40;

export type SqlValue = null | number | bigint | string | Buffer;

export class SqliteDb {
  private readonly pageSize: number;
  private readonly usable: number;
  private readonly pages: number;

  constructor(
    private readonly buf: Buffer,
    private readonly name: string,
  ) {
    if (buf.length < HEADER || buf.toString('latin1', 0, 16) !== MAGIC) throw this.error('header', 0, 'not an SQLite 3 database');
    const raw = buf.readUInt16BE(16);
    this.pageSize = raw === 1 ? 65536 : raw;
    if (this.pageSize < 512 || (this.pageSize & (this.pageSize - 1)) !== 0) throw this.error('header', 16, `page size ${raw} is not a power of two from 512`);
    this.usable = this.pageSize - buf[20]!;
    if (this.usable < 480) throw this.error('header', 20, `${buf[20]} reserved bytes leave too small pages`);
    if (buf.readUInt32BE(56) > 1) throw this.error('header', 56, 'text encoding is UTF-16, which rpm never writes');
    this.pages = Math.floor(buf.length / this.pageSize);
  }

  private error(structure: string, offset: number, what: string): Error {
    return new Error(`${this.name}: SQLite ${structure}: ${what} (at byte ${offset})`);
  }

  /** Every row of table `table` (case-insensitive), in rowid order; the rowid is the first element. */
  rows(table: string): { rowid: number; values: SqlValue[] }[] {
    const entry = this.walk(1).find((r) => r.values[0] === 'table' && String(r.values[1]).toLowerCase() === table.toLowerCase());
    if (!entry) throw new Error(`${this.name}: no table ${table} in the SQLite schema`);
    return this.walk(Number(entry.values[3]));
  }

  /** The rows of the table B-tree rooted at `root`, depth first. */
  private walk(root: number): { rowid: number; values: SqlValue[] }[] {
    const out: { rowid: number; values: SqlValue[] }[] = [];
    const seen = new Set<number>();
    const visit = (page: number, depth: number) => {
      if (depth > MAX_DEPTH) throw this.error(`page ${page}`, (page - 1) * this.pageSize, `B-tree deeper than ${MAX_DEPTH} levels`);
      const base = this.pageAt(page, seen, 'B-tree page');
      const hdr = base + (page === 1 ? HEADER : 0);
      const type = this.buf[hdr]!;
      if (type !== TABLE_LEAF && type !== TABLE_INTERIOR) throw this.error(`page ${page}`, hdr, `type ${type} is not a table B-tree page`);
      const cells = this.buf.readUInt16BE(hdr + 3);
      const ptrs = hdr + (type === TABLE_LEAF ? 8 : 12);
      if (ptrs + cells * 2 > base + this.pageSize) throw this.error(`page ${page}`, hdr + 3, `${cells} cells do not fit`);
      for (let i = 0; i < cells; i++) {
        const cell = base + this.buf.readUInt16BE(ptrs + i * 2);
        if (cell < ptrs || cell >= base + this.usable) throw this.error(`page ${page}`, ptrs + i * 2, `cell ${i} points outside the page`);
        if (type === TABLE_INTERIOR) visit(this.buf.readUInt32BE(cell), depth + 1);
        else out.push(this.leafCell(page, base, cell));
      }
      if (type === TABLE_INTERIOR) visit(this.buf.readUInt32BE(hdr + 8), depth + 1);
    };
    visit(root, 0);
    return out;
  }

  private pageAt(page: number, seen: Set<number>, what: string): number {
    if (page < 1 || page > this.pages) throw this.error(what, 0, `page ${page} is outside the file (${this.pages} pages)`);
    if (seen.has(page)) throw this.error(what, (page - 1) * this.pageSize, `page ${page} is reached twice (a cycle)`);
    seen.add(page);
    return (page - 1) * this.pageSize;
  }

  private leafCell(page: number, base: number, cell: number): { rowid: number; values: SqlValue[] } {
    const [size, a] = this.varint(cell);
    const [rowid, b] = this.varint(a);
    if (size > MAX_PAYLOAD) throw this.error(`page ${page}`, cell, `payload of ${size} bytes`);
    const x = this.usable - 35;
    let local = size;
    if (size > x) {
      const m = Math.floor(((this.usable - 12) * 32) / 255) - 23;
      const k = m + ((size - m) % (this.usable - 4));
      local = k <= x ? k : m;
    }
    if (b + local + (local < size ? 4 : 0) > base + this.pageSize) throw this.error(`page ${page}`, cell, 'cell runs past its page');
    const parts = [this.buf.subarray(b, b + local)];
    let got = local;
    let next = local < size ? this.buf.readUInt32BE(b + local) : 0;
    const seen = new Set<number>();
    while (got < size) {
      const at = this.pageAt(next, seen, `overflow chain of row ${rowid}`);
      const n = Math.min(this.usable - 4, size - got);
      parts.push(this.buf.subarray(at + 4, at + 4 + n));
      got += n;
      next = this.buf.readUInt32BE(at);
    }
    return { rowid, values: this.record(Buffer.concat(parts), page) };
  }

  /** A record: a header of serial types, then the values. */
  private record(rec: Buffer, page: number): SqlValue[] {
    const [hsize, start] = varintIn(rec, 0);
    if (hsize > rec.length) throw this.error(`record on page ${page}`, 0, 'header longer than the record');
    const types: number[] = [];
    for (let p = start; p < hsize;) {
      const [t, q] = varintIn(rec, p);
      types.push(t);
      p = q;
    }
    const values: SqlValue[] = [];
    let at = hsize;
    for (const t of types) {
      const len = t >= 12 ? Math.floor((t - 12) / 2) : [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0][t]!;
      if (at + len > rec.length) throw this.error(`record on page ${page}`, at, 'value runs past the record');
      const v = rec.subarray(at, at + len);
      at += len;
      if (t === 0) values.push(null);
      else if (t <= 6) values.push(len === 8 ? v.readBigInt64BE(0) : v.readIntBE(0, len));
      else if (t === 7) values.push(v.readDoubleBE(0));
      else if (t === 8 || t === 9) values.push(t - 8);
      else if (t >= 12 && t % 2 === 0) values.push(Buffer.from(v));
      else if (t >= 13) values.push(v.toString('utf8'));
      else throw this.error(`record on page ${page}`, at, `reserved serial type ${t}`);
    }
    return values;
  }

  private varint(at: number): [number, number] {
    return varintIn(this.buf, at);
  }
}

/** SQLite's big-endian varint: 7 bits a byte, the ninth byte whole. Values past 2^53 lose precision (none here). */
function varintIn(b: Buffer, at: number): [number, number] {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    if (at + i >= b.length) throw new Error(`SQLite varint runs past its buffer (at byte ${at})`);
    const byte = b[at + i]!;
    if (i === 8) return [v * 256 + byte, at + 9];
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) return [v, at + i + 1];
  }
  return [v, at + 9];
}
