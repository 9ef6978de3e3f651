/**
 * Adding and deleting keys. Subkey lists stay sorted by upcased name, as Windows needs to find
 * keys (hivex learned this the hard way); a leaf past LEAF_MAX entries splits in two under an
 * ri list. Deleting plans every cell to free first, so damage found on the way leaves the hive
 * untouched.
 */
import { HiveError } from './errors.js';
import { Key } from './key.js';
import { compareKeys } from '../../fs/ntfs/upcase.js';
import { encodeName, lfHint, lhHash, nameKey } from './names.js';
import { NK, NK_COMPRESSED_NAME, readNk } from './nk.js';
import { addSkReference, checkSkDrops, dropSkReference } from './sk.js';
import type { LeafKind } from './subkey-list.js';
import { ENTRY_SIZE, readSubkeyLists } from './subkey-list.js';
import { dataCells, readVk } from './vk.js';
import type { WriteContext } from './write-context.js';
import { field, nkData, raise } from './write-context.js';

const MAX_KEY_NAME = 255;
/** Entries per leaf before it splits (Windows keeps a leaf near one page). */
export const LEAF_MAX = 1012;
/** Windows's own limit on key depth; deeper means a cycle. */
const MAX_DEPTH = 512;
const SUBKEY_NAME_MASK = 0xffff;

const entryHash = (kind: LeafKind, name: string): number => (kind === 'lh' ? lhHash(name) : kind === 'lf' ? lfHint(name).readUInt32LE(0) : 0);

/** Write a list cell (a leaf, or an ri when `kind` is 'ri'), in place when `old` has room; its offset. */
function writeList(ctx: WriteContext, kind: LeafKind | 'ri', keys: number[], hashes: number[], old?: number): number {
  const size = 4 + keys.length * ENTRY_SIZE[kind];
  let at = old;
  if (at === undefined || ctx.cells.data(at, 'subkey list').length < size) at = ctx.alloc.alloc(size);
  const d = ctx.cells.data(at, 'subkey list');
  d.write(kind, 0, 'latin1');
  d.writeUInt16LE(keys.length, 2);
  keys.forEach((k, i) => {
    d.writeUInt32LE(field(k), 4 + i * ENTRY_SIZE[kind]);
    if (ENTRY_SIZE[kind] === 8) d.writeUInt32LE(hashes[i]!, 8 + i * 8);
  });
  if (old !== undefined && old !== at) ctx.alloc.free(old);
  return at;
}

function setSubkeyList(ctx: WriteContext, parentAt: number, list: number | undefined, count: number): void {
  const nk = nkData(ctx, parentAt);
  nk.writeUInt32LE(list === undefined ? 0xffffffff : field(list), NK.SUBKEY_LIST);
  nk.writeUInt32LE(count, NK.SUBKEY_COUNT);
}

function insertSubkey(ctx: WriteContext, parentAt: number, name: string, childAt: number): void {
  const { cells } = ctx;
  const nk = readNk(cells, parentAt);
  if (nk.subkeyList === undefined || nk.subkeyCount === 0) {
    const kind: LeafKind = ctx.minor >= 5 ? 'lh' : 'lf';
    setSubkeyList(ctx, parentAt, writeList(ctx, kind, [childAt], [entryHash(kind, name)]), 1);
    return;
  }
  const { ri, leaves } = readSubkeyLists(cells, nk.subkeyList);
  const key = nameKey(name);
  let li = leaves.length - 1;
  let pos = leaves[li]!.keys.length;
  find: for (let i = 0; i < leaves.length; i++) {
    const keys = leaves[i]!.keys;
    for (let j = 0; j < keys.length; j++) {
      if (compareKeys(key, nameKey(readNk(cells, keys[j]!).name)) < 0) {
        li = i;
        pos = j;
        break find;
      }
    }
  }
  const leaf = leaves[li]!;
  const keys = [...leaf.keys];
  const hashes = [...(leaf.hashes ?? keys.map(() => 0))];
  keys.splice(pos, 0, childAt);
  hashes.splice(pos, 0, entryHash(leaf.kind, name));
  const half = keys.length > LEAF_MAX ? keys.length >> 1 : keys.length;
  const written = [writeList(ctx, leaf.kind, keys.slice(0, half), hashes.slice(0, half), leaf.at)];
  if (half < keys.length) written.push(writeList(ctx, leaf.kind, keys.slice(half), hashes.slice(half)));
  let top: number;
  if (ri === undefined) {
    top = written.length === 1 ? written[0]! : writeList(ctx, 'ri', written, []);
  } else {
    const all = leaves.map((l) => l.at);
    all.splice(li, 1, ...written);
    if (all.length > 0xffff) throw new HiveError(cells.name, 'ri list', 'would need more than 65535 leaves', ri);
    top = writeList(ctx, 'ri', all, [], ri);
  }
  setSubkeyList(ctx, parentAt, top, nk.subkeyCount + 1);
}

function removeSubkey(ctx: WriteContext, parentAt: number, childAt: number): void {
  const { cells, alloc } = ctx;
  const nk = readNk(cells, parentAt);
  const lists = nk.subkeyList === undefined ? undefined : readSubkeyLists(cells, nk.subkeyList);
  const li = lists?.leaves.findIndex((l) => l.keys.includes(childAt)) ?? -1;
  if (!lists || li < 0) throw new HiveError(cells.name, 'nk record', `key at byte ${childAt} is missing from its parent's subkey list`, parentAt);
  const leaf = lists.leaves[li]!;
  const pos = leaf.keys.indexOf(childAt);
  const keys = leaf.keys.filter((_, i) => i !== pos);
  const hashes = (leaf.hashes ?? []).filter((_, i) => i !== pos);
  let top: number | undefined = nk.subkeyList;
  if (keys.length > 0) {
    writeList(ctx, leaf.kind, keys, hashes, leaf.at);
  } else {
    alloc.free(leaf.at);
    const rest = lists.leaves.filter((_, i) => i !== li).map((l) => l.at);
    if (lists.ri !== undefined && rest.length > 0) {
      writeList(ctx, 'ri', rest, [], lists.ri);
    } else {
      if (lists.ri !== undefined) alloc.free(lists.ri);
      top = undefined;
    }
  }
  setSubkeyList(ctx, parentAt, top, nk.subkeyCount - 1);
}

export function addKey(ctx: WriteContext, parentAt: number, name: string): number {
  const { cells, alloc } = ctx;
  const parent = new Key(cells, parentAt);
  const fail = (detail: string): never => {
    throw new HiveError(cells.name, 'nk record', `cannot add key "${name}" under "${parent.name}": ${detail}`, parentAt);
  };
  if (name.length === 0 || name.length > MAX_KEY_NAME) fail(`a key name has 1 to ${MAX_KEY_NAME} characters`);
  if (name.includes('\\')) fail('a key name has no backslash');
  if (parent.subkey(name)) fail('it exists');
  const p = readNk(cells, parentAt);
  if (p.subkeyCount === 0xffffffff) fail('too many subkeys');
  const { bytes, compressed } = encodeName(name);
  const at = alloc.alloc(NK.NAME + bytes.length);
  const d = cells.data(at, 'nk record');
  d.write('nk', 0, 'latin1');
  d.writeUInt16LE(compressed ? NK_COMPRESSED_NAME : 0, NK.FLAGS);
  d.writeBigUInt64LE(ctx.stamp, NK.TIMESTAMP);
  d.writeUInt32LE(field(parentAt), NK.PARENT);
  for (const f of [NK.SUBKEY_LIST, NK.VOLATILE_LIST, NK.VALUE_LIST, NK.SECURITY, NK.CLASS]) d.writeUInt32LE(0xffffffff, f);
  d.writeUInt16LE(bytes.length, NK.NAME_LENGTH);
  bytes.copy(d, NK.NAME);
  // A new key shares its parent's security descriptor, as hivex does.
  if (p.security !== undefined) {
    addSkReference(cells, p.security);
    cells.data(at, 'nk record').writeUInt32LE(field(p.security), NK.SECURITY);
  }
  insertSubkey(ctx, parentAt, name, at);
  raise(nkData(ctx, parentAt), NK.MAX_SUBKEY_NAME, name.length * 2, SUBKEY_NAME_MASK);
  return at;
}

/** Every cell of the subtree at `at` and the sk references it holds, checked before anything changes. */
function planDelete(ctx: WriteContext, at: number): { free: number[]; sks: Map<number, number> } {
  const { cells } = ctx;
  const free: number[] = [];
  const sks = new Map<number, number>();
  const seen = new Set<number>();
  const stack: Array<[number, number]> = [[at, 0]];
  while (stack.length > 0) {
    const [k, depth] = stack.pop()!;
    if (depth > MAX_DEPTH) throw new HiveError(cells.name, 'nk record', `key is more than ${MAX_DEPTH} levels below the one being deleted (a cycle?)`, k);
    const nk = readNk(cells, k);
    const key = new Key(cells, k);
    for (const v of key.valueOffsets()) free.push(v, ...dataCells(cells, readVk(cells, v)));
    if (nk.valueCount > 0) free.push(nk.valueList!);
    const children = key.subkeyOffsets();
    if (children.length > 0) {
      const { ri, leaves } = readSubkeyLists(cells, nk.subkeyList!);
      if (ri !== undefined) free.push(ri);
      free.push(...leaves.map((l) => l.at));
    }
    if (nk.className !== undefined) {
      cells.data(nk.className, 'class name');
      free.push(nk.className);
    }
    if (nk.security !== undefined) sks.set(nk.security, (sks.get(nk.security) ?? 0) + 1);
    free.push(k);
    for (const c of children) stack.push([c, depth + 1]);
  }
  for (const c of free) {
    if (seen.has(c)) throw new HiveError(cells.name, 'cell', 'is used twice in the keys being deleted', c);
    seen.add(c);
  }
  for (const [sk, drops] of sks) checkSkDrops(cells, sk, drops);
  return { free, sks };
}

export function deleteKey(ctx: WriteContext, at: number): void {
  const { cells, alloc } = ctx;
  const nk = readNk(cells, at);
  if (nk.parent === undefined || at === ctx.root) throw new HiveError(cells.name, 'nk record', `cannot delete the root key "${nk.name}"`, at);
  const plan = planDelete(ctx, at);
  removeSubkey(ctx, nk.parent, at);
  for (const c of plan.free) alloc.free(c);
  for (const [sk, drops] of plan.sks) for (let i = 0; i < drops; i++) dropSkReference(cells, alloc, sk);
  const longest = Math.max(0, ...new Key(cells, nk.parent).subkeys().map((k) => k.name.length * 2));
  const p = nkData(ctx, nk.parent);
  p.writeUInt32LE(((p.readUInt32LE(NK.MAX_SUBKEY_NAME) & ~SUBKEY_NAME_MASK) | longest) >>> 0, NK.MAX_SUBKEY_NAME);
}
