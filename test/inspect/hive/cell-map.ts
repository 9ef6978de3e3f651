/** Every cell of a hive file, read independently of the reader under test. */
export interface CellInfo {
  at: number;
  size: number;
  used: boolean;
}

export function cellMap(b: Buffer): CellInfo[] {
  const end = 4096 + b.readUInt32LE(40);
  const out: CellInfo[] = [];
  for (let bin = 4096; bin < end; bin += b.readUInt32LE(bin + 8)) {
    if (b.toString('latin1', bin, bin + 4) !== 'hbin') throw new Error(`no hbin at ${bin}`);
    const binEnd = bin + b.readUInt32LE(bin + 8);
    let at = bin + 32;
    while (at < binEnd) {
      const raw = b.readInt32LE(at);
      const size = Math.abs(raw);
      if (size < 8 || at + size > binEnd) throw new Error(`cell at ${at} of size ${raw} does not fit hbin ${bin}..${binEnd}`);
      out.push({ at, size, used: raw < 0 });
      at += size;
    }
    if (at !== binEnd) throw new Error(`cells of hbin ${bin} end at ${at}, not ${binEnd}`);
  }
  return out;
}
