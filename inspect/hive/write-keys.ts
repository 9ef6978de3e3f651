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
import type { Leaf, LeafKind } from './subkey-list.js';
import { ENTRY_SIZE, LIST_HEADER, readSubkeyLists } from './subkey-list.js';
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

/** Write a new list cell (a leaf, or an ri when `kind` is 'ri'), or rewrite `old` in place when it has room; its offset. */
function writeList(ctx: WriteContext, kind: LeafKind | 'ri', keys: number[], hashes: number[], old?: number): number {
  const size = LIST_HEADER + keys.length * ENTRY_SIZE[kind];
  let at = old;
  if (at === undefined || ctx.cells.data(at, 'subkey list').length < size) at = ctx.alloc.alloc(size);
  const d = ctx.cells.data(at, 'subkey list');
  d.write(kind, 0, 'latin1');
  d.writeUInt16LE(keys.length, 2);
  keys.forEach((k, i) => {
    d.writeUInt32LE(field(k), LIST_HEADER + i * ENTRY_SIZE[kind]);
    if (ENTRY_SIZE[kind] === 8) d.writeUInt32LE(hashes[i]!, LIST_HEADER + 4 + i * 8);
  });
  if (old !== undefined && old !== at) ctx.alloc.free(old);
  return at;
}

function setSubkeyList(ctx: WriteContext, parentAt: number, list: number | undefined, count: number): void {
  const nk = nkData(ctx, parentAt);
  nk.writeUInt32LE(list === undefined ? 0xffffffff : field(list), NK.SUBKEY_LIST);
  nk.writeUInt32LE(count, NK.SUBKEY_COUNT);
}

/** Insert an entry at `pos`: shifted in place when the leaf's cell has room, else moved to a bigger cell. */
function insertEntry(ctx: WriteContext, leaf: Leaf, pos: number, childAt: number, hash: number): number {
  const { cells, alloc } = ctx;
  const used = LIST_HEADER + leaf.count * leaf.size;
  let at = leaf.at;
  if (cells.data(at, 'subkey list').length < used + leaf.size) {
    at = alloc.alloc(used + leaf.size);
    cells.buf.copy(cells.buf, at + 4, leaf.at + 4, leaf.at + 4 + used);
    alloc.free(leaf.at);
  }
  const d = cells.data(at, 'subkey list');
  d.copyWithin(LIST_HEADER + (pos + 1) * leaf.size, LIST_HEADER + pos * leaf.size, used);
  d.writeUInt32LE(field(childAt), LIST_HEADER + pos * leaf.size);
  if (leaf.size === 8) d.writeUInt32LE(hash, LIST_HEADER + pos * 8 + 4);
  d.writeUInt16LE(leaf.count + 1, 2);
  return at;
}

/** Move the second half of a full leaf to a new leaf; its offset. */
function splitLeaf(ctx: WriteContext, at: number, kind: LeafKind, count: number): number {
  const { cells, alloc } = ctx;
  const half = count >> 1;
  const size = ENTRY_SIZE[kind];
  const second = alloc.alloc(LIST_HEADER + (count - half) * size);
  const d = cells.data(at, 'subkey list');
  const n = cells.data(second, 'subkey list');
  n.write(kind, 0, 'latin1');
  n.writeUInt16LE(count - half, 2);
  d.copy(n, LIST_HEADER, LIST_HEADER + half * size, LIST_HEADER + count * size);
  d.writeUInt16LE(half, 2);
  return second;
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
  // Binary search over the entries of all leaves, which Windows keeps sorted.
  const key = nameKey(name);
  const total = leaves.reduce((n, l) => n + l.count, 0);
  const locate = (k: number): [number, number] => {
    let i = 0;
    while (k >= leaves[i]!.count && i < leaves.length - 1) k -= leaves[i++]!.count;
    return [i, k];
  };
  let lo = 0;
  let hi = total;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const [i, j] = locate(mid);
    if (compareKeys(key, nameKey(readNk(cells, leaves[i]!.key(j)).name)) < 0) hi = mid;
    else lo = mid + 1;
  }
  // Before the entry found, or after the last entry of the last leaf.
  const [li, pos] = locate(lo);
  const leaf = leaves[li]!;
  const written = [insertEntry(ctx, leaf, pos, childAt, entryHash(leaf.kind, name))];
  if (leaf.count + 1 > LEAF_MAX) written.push(splitLeaf(ctx, written[0]!, leaf.kind, leaf.count + 1));
  let top = written[0]!;
  if (ri !== undefined || written.length > 1) {
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
  const li = lists?.leaves.findIndex((l) => l.indexOf(childAt) >= 0) ?? -1;
  if (!lists || li < 0) throw new HiveError(cells.name, 'nk record', `key at byte ${childAt} is missing from its parent's subkey list`, parentAt);
  const leaf = lists.leaves[li]!;
  // The parent's longest-name field stays: it is an upper bound Windows sizes buffers by, as hivex leaves it.
  let top: number | undefined = nk.subkeyList;
  if (leaf.count > 1) {
    const pos = leaf.indexOf(childAt);
    const d = cells.data(leaf.at, 'subkey list');
    d.copyWithin(LIST_HEADER + pos * leaf.size, LIST_HEADER + (pos + 1) * leaf.size, LIST_HEADER + leaf.count * leaf.size);
    d.writeUInt16LE(leaf.count - 1, 2);
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

/** Levels between the root and key `at`, following parent offsets (bounded: a loop is an error). */
function depth(ctx: WriteContext, at: number): number {
  let n = 0;
  for (let k = at; k !== ctx.root; n++) {
    if (n > MAX_DEPTH) throw new HiveError(ctx.cells.name, 'nk record', `parent offsets go more than ${MAX_DEPTH} levels up (a cycle?)`, at);
    const parent = readNk(ctx.cells, k).parent;
    if (parent === undefined) throw new HiveError(ctx.cells.name, 'nk record', 'key has no parent but is not the root', k);
    k = parent;
  }
  return n;
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
  if (depth(ctx, parentAt) >= MAX_DEPTH) fail(`keys nest at most ${MAX_DEPTH} levels deep`);
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
    if (seen.has(k)) throw new HiveError(cells.name, 'nk record', 'key is reached twice below the one being deleted (a cycle?)', k);
    seen.add(k);
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
  seen.clear();
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
}
