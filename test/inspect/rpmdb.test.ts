/** rpm's two database formats read directly, against what rpm itself reads; damaged ones give bounded errors. */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BdbHash } from '../../inspect/linux/bdb-hash.js';
import { parseRpmHeader } from '../../inspect/linux/rpm-header.js';
import { SqliteDb } from '../../inspect/linux/sqlite.js';
import type { Application } from '../../inspect/os-info.js';
import { fixture } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { rpmImage, RPMS } from './rpm-image.js';

const sqlitePath = async () => join(await rpmImage(), 'root/var/lib/rpm/rpmdb.sqlite');

/** A Berkeley DB hash `Packages` made by db5.3_load from the header blobs rpm wrote into rpmdb.sqlite. */
async function bdbPackages(): Promise<string> {
  const src = await sqlitePath();
  return fixture('rpm-Packages.db', `v1 db5.3_load ${src}`, async (out) => {
    const rows = (await run('sqlite3', ['-readonly', src, 'select hnum, lower(hex(blob)) from Packages'])).trim().split('\n');
    const le32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n);
      return b.toString('hex');
    };
    const dump = ['VERSION=3', 'format=bytevalue', 'type=hash', 'db_pagesize=4096', 'HEADER=END',
      ...rows.flatMap((r) => {
        const [n, hex] = r.split('|');
        return [` ${le32(Number(n))}`, ` ${hex}`];
      }), 'DATA=END', ''].join('\n');
    await writeFile(`${out}.dump`, dump);
    await run('db5.3_load', ['-f', `${out}.dump`, out]);
  });
}

const line = (a: Application) => [a.name, a.epoch, a.version, a.release, a.arch, a.url, a.summary, a.description].join('\t');

async function rpmSays(): Promise<string[]> {
  const qf = '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{URL}\\t%{SUMMARY}\\t%{DESCRIPTION}\\n@@\\n';
  return (await run('rpm', ['--dbpath', join(await rpmImage(), 'root/var/lib/rpm'), '-qa', '--qf', qf])).split('\n@@\n').filter(Boolean).sort();
}

test('BerkeleyDB hash Packages (made by db5.3_load, headers past a page on overflow chains) reads as rpm reads rpmdb.sqlite', async () => {
  const db = new BdbHash(await readFile(await bdbPackages()), 'Packages');
  const apps = db.entries().map((e) => parseRpmHeader(e.data, 'Packages'));
  assert.equal(apps.length, RPMS.length);
  assert.ok(apps.some((a) => a.description!.length > 8192), 'a header spans overflow pages');
  assert.deepEqual(apps.map(line).sort(), await rpmSays());
});

test('SQLite: a table B-tree with overflow rows reads as rpm reads it; a wrong page type is named', async () => {
  const buf = await readFile(await sqlitePath());
  const rows = new SqliteDb(buf, 'rpmdb.sqlite').rows('packages');
  assert.deepEqual(rows.map((r) => line(parseRpmHeader(r.values[1] as Buffer, 'x'))).sort(), await rpmSays());
  const pageSize = buf.readUInt16BE(16);
  const rootPage = Number(await run('sqlite3', ['-readonly', await sqlitePath(), "select rootpage from sqlite_schema where name = 'Packages'"]));
  const bad = Buffer.from(buf);
  // Break the Packages table's root page type byte.
  bad[(rootPage - 1) * pageSize] = 0x42;
  assert.throws(() => new SqliteDb(bad, 'rpmdb.sqlite').rows('Packages'), new RegExp(`^Error: rpmdb.sqlite: SQLite page ${rootPage}: type 66 is not a table B-tree page \\(at byte ${(rootPage - 1) * pageSize}\\)$`));
  assert.throws(() => new SqliteDb(Buffer.alloc(4096), 'x.sqlite'), /^Error: x.sqlite: SQLite header: not an SQLite 3 database \(at byte 0\)$/);
});

test('Berkeley DB: an overflow chain pointing outside the file is named, not followed', async () => {
  const buf = Buffer.from(await readFile(await bdbPackages()));
  const pageSize = buf.readUInt32LE(20);
  // Point every overflow page's next link past the end.
  let patched = 0;
  for (let p = 1; p * pageSize < buf.length; p++) {
    if (buf[p * pageSize + 25] === 7 && buf.readUInt32LE(p * pageSize + 16) !== 0) {
      buf.writeUInt32LE(99999, p * pageSize + 16);
      patched++;
    }
  }
  assert.ok(patched > 0);
  assert.throws(() => new BdbHash(buf, 'Packages').entries(), /^Error: Packages: Berkeley DB page \d+: overflow chain reaches page 99999 \(at byte \d+\)$/);
});
