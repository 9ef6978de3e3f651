/** Setting and deleting values: vk records, their data cells, and the key's value list. */
import { DB, SEGMENT_BYTES } from './big-data.js';
import { HiveError } from './errors.js';
import { Key } from './key.js';
import { encodeName } from './names.js';
import { NK, readNk } from './nk.js';
import type { WriteContext } from './write-context.js';
import { field, nkData, raise } from './write-context.js';
import { DATA_INLINE, dataCells, readVk, VK, VK_COMPRESSED_NAME } from './vk.js';

/** Windows's limits: value names up to 16383 characters, data lengths in 31 bits. */
const MAX_VALUE_NAME = 16383;
const MAX_DATA = 0x7fffffff;

/** Store data: inline up to 4 bytes, a db record past 16344 bytes in 1.4+ hives, else one cell. */
function writeData(ctx: WriteContext, data: Buffer): { length: number; offset: number } {
  const { cells, alloc } = ctx;
  if (data.length <= 4) {
    const b = Buffer.alloc(4);
    data.copy(b);
    return { length: (data.length | DATA_INLINE) >>> 0, offset: b.readUInt32LE(0) };
  }
  if (ctx.minor < 4 || data.length <= SEGMENT_BYTES) {
    const at = alloc.alloc(data.length);
    data.copy(cells.buf, at + 4);
    return { length: data.length, offset: field(at) };
  }
  const n = Math.ceil(data.length / SEGMENT_BYTES);
  const segments: number[] = [];
  for (let i = 0; i < n; i++) {
    const chunk = data.subarray(i * SEGMENT_BYTES, (i + 1) * SEGMENT_BYTES);
    // Four bytes of slack after each segment, as Windows leaves (hivex reads cell size - 8).
    const at = alloc.alloc(chunk.length + 4);
    chunk.copy(cells.buf, at + 4);
    segments.push(at);
  }
  const list = alloc.alloc(n * 4);
  segments.forEach((s, i) => cells.buf.writeUInt32LE(field(s), list + 4 + i * 4));
  const db = alloc.alloc(DB.SIZE);
  cells.buf.write('db', db + 4, 'latin1');
  cells.buf.writeUInt16LE(n, db + 4 + DB.COUNT);
  cells.buf.writeUInt32LE(field(list), db + 4 + DB.LIST);
  return { length: data.length, offset: field(db) };
}

function checkValue(ctx: WriteContext, key: Key, name: string, type: number, data: Buffer): void {
  const fail = (detail: string): never => {
    throw new HiveError(ctx.cells.name, 'vk record', `cannot set value "${name}" of key "${key.name}": ${detail}`, key.offset);
  };
  if (name.length > MAX_VALUE_NAME) fail(`name is longer than ${MAX_VALUE_NAME} characters`);
  if (!Number.isInteger(type) || type < 0 || type > 0xffffffff) fail(`type ${type} is not a 32-bit number`);
  if (data.length > MAX_DATA) fail(`${data.length} bytes of data is more than a value holds`);
}

export function setValue(ctx: WriteContext, keyAt: number, name: string, type: number, data: Buffer): void {
  const { cells, alloc } = ctx;
  const key = new Key(cells, keyAt);
  checkValue(ctx, key, name, type, data);
  const existing = key.findValue(name);
  const offsets = key.valueOffsets();
  const old = existing === undefined ? [] : dataCells(cells, readVk(cells, existing));
  const stored = writeData(ctx, data);
  let vkAt = existing;
  if (vkAt === undefined) {
    const { bytes, compressed } = encodeName(name);
    vkAt = alloc.alloc(VK.NAME + bytes.length);
    const vk = cells.buf.subarray(vkAt + 4);
    vk.write('vk', 0, 'latin1');
    vk.writeUInt16LE(bytes.length, VK.NAME_LENGTH);
    vk.writeUInt16LE(compressed && bytes.length > 0 ? VK_COMPRESSED_NAME : 0, VK.FLAGS);
    bytes.copy(vk, VK.NAME);
    writeValueList(ctx, keyAt, [...offsets, vkAt]);
  }
  const vk = cells.data(vkAt, 'vk record');
  vk.writeUInt32LE(stored.length, VK.DATA_LENGTH);
  vk.writeUInt32LE(stored.offset, VK.DATA);
  vk.writeUInt32LE(type, VK.TYPE);
  for (const c of old) alloc.free(c);
  const nk = nkData(ctx, keyAt);
  raise(nk, NK.MAX_VALUE_NAME, name.length * 2);
  raise(nk, NK.MAX_VALUE_DATA, data.length);
}

export function deleteValue(ctx: WriteContext, keyAt: number, name: string): void {
  const { cells, alloc } = ctx;
  const key = new Key(cells, keyAt);
  const at = key.findValue(name);
  if (at === undefined) throw new HiveError(cells.name, 'nk record', `key "${key.name}" has no value "${name}" to delete`, keyAt);
  const free = [at, ...dataCells(cells, readVk(cells, at))];
  const rest = key.valueOffsets().filter((v) => v !== at);
  writeValueList(ctx, keyAt, rest);
  // The longest-name and largest-data fields stay: upper bounds, as hivex leaves them.
  for (const c of free) alloc.free(c);
}

/** Point the key at a value list holding `offsets`: in place when its cell has room, else a new cell. */
function writeValueList(ctx: WriteContext, keyAt: number, offsets: number[]): void {
  const { cells, alloc } = ctx;
  const old = readNk(cells, keyAt).valueList;
  let list = old;
  if (offsets.length === 0) {
    list = undefined;
  } else if (old === undefined || cells.data(old, 'value list').length < offsets.length * 4) {
    list = alloc.alloc(offsets.length * 4);
  }
  if (list !== undefined) offsets.forEach((o, i) => cells.buf.writeUInt32LE(field(o), list! + 4 + i * 4));
  const nk = nkData(ctx, keyAt);
  nk.writeUInt32LE(offsets.length, NK.VALUE_COUNT);
  nk.writeUInt32LE(list === undefined ? 0xffffffff : field(list), NK.VALUE_LIST);
  if (old !== undefined && old !== list) alloc.free(old);
}
