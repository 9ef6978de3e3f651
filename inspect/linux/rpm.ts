/** Installed packages from rpm's database: rpmdb.sqlite (rpm ≥ 4.16) or the BerkeleyDB `Packages` hash. */
import type { Application } from '../os-info.js';
import { DATABASE_CAP, type FsSource } from '../source.js';
import { BdbHash } from './bdb-hash.js';
import { parseRpmHeader } from './rpm-header.js';
import { SqliteDb } from './sqlite.js';

const DB_DIRS = ['/var/lib/rpm', '/usr/lib/sysimage/rpm'];

export async function rpmApplications(src: FsSource, warn: (m: string) => void): Promise<Application[]> {
  for (const dir of DB_DIRS) {
    const path = `${dir}/rpmdb.sqlite`;
    const db = await src.read(path, DATABASE_CAP);
    if (!db) {
      const bdb = await src.read(`${dir}/Packages`, DATABASE_CAP);
      if (bdb) return fromBdb(bdb, `${src.device}: ${dir}/Packages`, warn);
      continue;
    }
    const what = `${src.device}: ${path}`;
    if ((await src.read(`${path}-wal`, DATABASE_CAP))?.length) warn(`${what}: has an unmerged write-ahead log; its newest changes are not read`);
    try {
      return new SqliteDb(db, what).rows('Packages').flatMap((r) => {
        const blob = r.values[1];
        return Buffer.isBuffer(blob) ? [parseRpmHeader(blob, `${what}: package ${r.rowid}`)] : [];
      });
    } catch (e) {
      warn((e as Error).message);
      return [];
    }
  }
  return [];
}

/** Packages keyed by a 4-byte number; record 0 is rpm's bookkeeping, not a package. */
function fromBdb(db: Buffer, what: string, warn: (m: string) => void): Application[] {
  try {
    return new BdbHash(db, what).entries()
      .filter((e) => e.key.length === 4 && e.key.readUInt32LE(0) !== 0 && e.data.length >= 8)
      .map((e) => parseRpmHeader(e.data, `${what}: package ${e.key.readUInt32LE(0)}`));
  } catch (e) {
    warn((e as Error).message);
    return [];
  }
}
