/** Hives made by hivexregedit for the reader's tests, with the model each was made from. */
import { prng } from '../../../disk/filters/prng.js';
import { REG } from '../../../inspect/hive/hive.js';
import type { MKey } from './reg.js';
import { hivexHive, mkey, mpath, setMValue } from './reg.js';

const utf16z = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf16le');
const multi = (xs: string[]): Buffer => Buffer.from(`${xs.join('\0')}\0\0`, 'utf16le');
const dword = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const qword = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};

export const MANY = 1500;
export const BIG_SIZES = [0, 3, 4, 5, 16344, 16345, 40000];

/** Every value type, big values, a key with 1500 subkeys, unicode names, a deep chain. */
export function richModel(): MKey {
  const random = prng(9);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  const root = mkey('ROOT');
  const types = mpath(root, ['Types'], true)!;
  setMValue(types, '', REG.SZ, utf16z('default'));
  setMValue(types, 'none', REG.NONE, Buffer.alloc(0));
  setMValue(types, 'none bytes', REG.NONE, bytes(7));
  setMValue(types, 'sz', REG.SZ, utf16z('hello'));
  setMValue(types, 'sz unicode', REG.SZ, utf16z('Grüße 日本'));
  setMValue(types, 'expand', REG.EXPAND_SZ, utf16z('%SystemRoot%\\System32'));
  setMValue(types, 'binary', REG.BINARY, bytes(100));
  setMValue(types, 'dword', REG.DWORD, dword(0xdeadbeef));
  setMValue(types, 'dword be', REG.DWORD_BIG_ENDIAN, Buffer.from([0x12, 0x34, 0x56, 0x78]));
  setMValue(types, 'link', REG.LINK, Buffer.from('\\Registry\\Machine\\X', 'utf16le'));
  setMValue(types, 'multi', REG.MULTI_SZ, multi(['one', 'two two', 'drei']));
  setMValue(types, 'qword', REG.QWORD, qword(0x1_0000_0001n));
  setMValue(types, 'qword big', REG.QWORD, qword(0xfedc_ba98_7654_3210n));
  setMValue(types, 'resource list', 8, bytes(20));
  setMValue(types, 'unknown type', 0x1234, bytes(9));
  setMValue(types, 'type ffff0000', 0xffff0000, bytes(2));
  setMValue(types, 'quote " and \\ backslash', REG.SZ, utf16z('q'));
  setMValue(types, 'Välue 日本', REG.DWORD, dword(7));
  const big = mpath(root, ['Big'], true)!;
  for (const n of BIG_SIZES) setMValue(big, `b${n}`, REG.BINARY, bytes(n));
  const many = mpath(root, ['Many'], true)!;
  for (let i = 0; i < MANY; i++) {
    const k = mpath(many, [`${i % 3 ? 'sub' : 'Sub'}${String(i).padStart(4, '0')}`], true)!;
    if (i % 100 === 0) setMValue(k, 'i', REG.DWORD, dword(i));
  }
  const uni = mpath(root, ['Ünï', '日本語キー'], true)!;
  setMValue(uni, 'x', REG.SZ, utf16z('ü'));
  mpath(root, Array.from({ length: 30 }, (_, i) => `d${i}`), true);
  return root;
}

export async function richHive(): Promise<{ path: string; model: MKey }> {
  const model = richModel();
  return { path: await hivexHive('rich.hive', 'richModel v1', model), model };
}

/** A few keys and values of each kind: small enough to damage and re-read hundreds of times. */
export function smallModel(): MKey {
  const root = mkey('ROOT');
  const a = mpath(root, ['A'], true)!;
  setMValue(a, 's', REG.SZ, utf16z('small'));
  setMValue(a, 'b', REG.BINARY, Buffer.alloc(300, 7));
  setMValue(a, 'd', REG.DWORD, dword(1));
  for (let i = 0; i < 12; i++) mpath(root, ['A', `k${i}`, 'leaf'], true);
  mpath(root, ['B', 'C'], true);
  return root;
}

export async function smallHive(): Promise<{ path: string; model: MKey }> {
  const model = smallModel();
  return { path: await hivexHive('small.hive', 'smallModel v1', model), model };
}
