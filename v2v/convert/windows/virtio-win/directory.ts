/** A virtio-win directory tree (an unpacked ISO, or /usr/share/virtio-win with its by-os symlinks). */
import { opendir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LIMITS, VirtioWinError, type VirtioWinFile, type VirtioWinSource } from './source.js';

export function openDirectory(dir: string): VirtioWinSource {
  let listing: Promise<VirtioWinFile[]> | undefined;
  return {
    name: dir,
    // Walked once: the conversion asks for the list more than once.
    files: async () => [...(await (listing ??= walk(dir)))],
    async read(file) {
      if (file.size > LIMITS.fileSize) throw new VirtioWinError(`${dir}: ${file.path}: ${file.size} bytes, more than ${LIMITS.fileSize}`);
      const data = await readFile(join(dir, file.path));
      if (data.length !== file.size) throw new VirtioWinError(`${dir}: ${file.path} changed size while being read`);
      return data;
    },
    close: async () => undefined,
  };
}

/** Every regular file below `dir`, following symlinks (as `find -L`), each real directory walked once so links cannot loop. */
async function walk(dir: string): Promise<VirtioWinFile[]> {
  const out: VirtioWinFile[] = [];
  const seen = new Set<string>();
  const visit = async (rel: string, depth: number): Promise<void> => {
    const abs = rel === '' ? dir : join(dir, rel);
    const real = await realpath(abs);
    if (seen.has(real)) return;
    seen.add(real);
    if (depth > LIMITS.depth) throw new VirtioWinError(`${dir}: ${rel}: directories nested deeper than ${LIMITS.depth}`);
    const entries: string[] = [];
    for await (const e of await opendir(abs)) entries.push(e.name);
    for (const name of entries.sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = await stat(join(dir, path)).catch(() => undefined); // a dangling link is skipped
      if (!st) continue;
      if (st.isDirectory()) {
        await visit(path, depth + 1);
      } else if (st.isFile()) {
        if (out.length >= LIMITS.files) throw new VirtioWinError(`${dir}: more than ${LIMITS.files} files`);
        out.push({ path, size: st.size });
      }
    }
  };
  const st = await stat(dir);
  if (!st.isDirectory()) throw new VirtioWinError(`${dir}: not a directory`);
  await visit('', 0);
  return out;
}
