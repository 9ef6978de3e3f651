/** The source tree the read tests copy into each image with mtools. */
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Deterministic bytes: a counter-based pattern that is not all the same. */
export function pattern(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b;
}

const BASE_TIME = Date.UTC(2021, 5, 15, 12, 34, 56) / 1000;

export const NAMES = [
  'hello.txt', // all-lowercase 8.3: mtools stores lower-case flags
  // (no names outside the BMP here: mtools drops surrogate pairs)
  'README.TXT', // plain 8.3
  'lower.TXT', // lower base, upper extension
  'MixedCase.Txt',
  'Long File Name with spaces.text',
  'a.b.c.d',
  'plus+comma,semi;eq=brackets[].x',
  'ünïcødé 文件.dat',
  'Ελληνικά κείμενο.txt',
  'x'.repeat(200) + '.long',
];

/** The tree: named files, 1,000 entries in one directory, 30 nested levels; `big` adds a 100 MiB file. */
export async function writeTree(dir: string, opts: { many: number; deep: number; big: boolean }): Promise<void> {
  let t = BASE_TIME;
  const put = async (path: string, data: Buffer) => {
    await writeFile(path, data);
    await utimes(path, t, (t += 2));
  };
  for (const [i, name] of NAMES.entries()) await put(join(dir, name), pattern(i * 1000 + 17, i + 1));
  await mkdir(join(dir, 'many'));
  // Distinct leading digits keep mtools' alias search short (a shared prefix makes mcopy
  // take a minute for 1,000 names); every tenth is a lower-case 8.3 name.
  for (let i = 0; i < opts.many; i++) {
    const name = i % 10 === 0 ? `e${1000 + i}.txt` : `${1000 + i} long entry Name.txt`;
    await put(join(dir, 'many', name), Buffer.from(`entry ${i}\n`));
  }
  let deep = dir;
  for (let i = 1; i <= opts.deep; i++) {
    deep = join(deep, `level ${i}`);
    await mkdir(deep);
  }
  await put(join(deep, 'bottom.txt'), Buffer.from('the bottom\n'));
  await mkdir(join(dir, 'EMPTY'));
  if (opts.big) await put(join(dir, 'big file.bin'), pattern(100 << 20, 99));
}
