/**
 * An in-memory model of a FAT tree for the random-operation tests: names compare without
 * case as FAT's do, each operation says what error (if any) the driver must give.
 */
import { createHash } from 'node:crypto';
import type { TreeItem } from './tools.js';

export interface MFile {
  name: string;
  dir: false;
  data: Buffer;
  /** Set by utimens and cleared by later writes. */
  mtime?: number;
}

export interface MDir {
  name: string;
  dir: true;
  children: Map<string, MNode>;
}

export type MNode = MFile | MDir;

export const fold = (s: string) => s.toUpperCase();

export function newDir(name: string): MDir {
  return { name, dir: true, children: new Map() };
}

/** Every node with its path components, root first. */
export function allNodes(root: MDir): { path: string[]; node: MNode; parent: MDir | undefined }[] {
  const out: { path: string[]; node: MNode; parent: MDir | undefined }[] = [{ path: [], node: root, parent: undefined }];
  const walk = (d: MDir, path: string[]) => {
    for (const c of d.children.values()) {
      out.push({ path: [...path, c.name], node: c, parent: d });
      if (c.dir) walk(c, [...path, c.name]);
    }
  };
  walk(root, []);
  return out;
}

export function contains(d: MDir, n: MNode): boolean {
  for (const c of d.children.values()) if (c === n || (c.dir && contains(c, n))) return true;
  return false;
}

/** The model as a sorted tree listing; mtimes only where utimens set them (others -1). */
export function modelTree(root: MDir): TreeItem[] {
  return allNodes(root)
    .filter((e) => e.path.length > 0)
    .map(({ path, node }) => ({
      path: `/${path.join('/')}`,
      dir: node.dir,
      size: node.dir ? 0 : node.data.length,
      mtime: node.dir ? 0 : (node.mtime ?? -1),
      sha: node.dir ? '' : createHash('sha256').update(node.data).digest('hex'),
    }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** A listing with mtimes kept only where the model knows them. */
export function maskTimes(tree: TreeItem[], model: TreeItem[]): TreeItem[] {
  const known = new Map(model.map((i) => [i.path, i.mtime]));
  return tree.map((i) => ({ ...i, mtime: i.dir ? 0 : known.get(i.path) === -1 ? -1 : i.mtime }));
}
