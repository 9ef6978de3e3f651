/** Directories made and files written in the guest, each reported with the path as Windows shows it ("C:\Windows\…: added (N bytes, why)"). */
import type { OsInfo } from '../../../inspect/os-info.js';
import type { GuestFiles } from '../../guest-files.js';
import { windowsPath } from './guest-paths.js';

export async function mkdirReported(files: GuestFiles, os: OsInfo, path: string, report: (m: string) => void): Promise<void> {
  const parts = path.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const p = `/${parts.slice(0, i).join('/')}`;
    if (await files.exists(p)) continue;
    await files.mkdirp(p);
    report(`${windowsPath(os, p)}: directory created`);
  }
}

export async function writeReported(files: GuestFiles, os: OsInfo, path: string, data: Buffer | string, why: string, report: (m: string) => void): Promise<void> {
  const existed = await files.exists(path);
  await files.write(path, data);
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  report(`${windowsPath(os, path)}: ${existed ? 'replaced' : 'added'} (${size} bytes, ${why})`);
}
