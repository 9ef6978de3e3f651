import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Guest } from '../../guest/guest.js';
import { inspectGuest } from '../../inspect/inspect.js';
import { fixture, scratch } from '../fixtures/cache.js';
import { run } from '../fixtures/run.js';
import { tool, toolStatus } from '../e2e/tools.js';
import { linuxImage } from '../inspect/linux-image.js';
import { rpmImage } from '../inspect/rpm-image.js';
import { HOSTS, SPECS, windowsImage } from '../inspect/windows-image.js';

/** virt-inspector.rng from Debian's guestfs-tools package, unpacked without installing libguestfs. */
function rng(): Promise<string> {
  return fixture('virt-inspector-rng', 'v1 apt-get download guestfs-tools', async (out) => {
    await run('mkdir', ['-p', out]);
    await run('apt-get', ['download', 'guestfs-tools'], { cwd: out });
    const deb = (await run('sh', ['-c', 'ls guestfs-tools_*.deb'], { cwd: out })).trim();
    await run('dpkg-deb', ['-x', join(out, deb), join(out, 'x')]);
    await run('sh', ['-c', `gunzip -c x/usr/share/doc/guestfs-tools/virt-inspector.rng.gz > virt-inspector.rng`], { cwd: out });
  }).then((d) => join(d, 'virt-inspector.rng'));
}

async function validXml(xml: string): Promise<string> {
  const dir = await scratch('inspector-xml');
  const file = join(dir, 'out.xml');
  await writeFile(file, xml);
  await run('xmllint', ['--noout', '--relaxng', await rng(), file]);
  return file;
}

const xpath = async (file: string, expr: string) => (await run('xmllint', ['--xpath', expr, file])).trim();

test('virt-inspector XML for Linux and Windows guests validates against libguestfs virt-inspector.rng', async () => {
  const linux = join(await linuxImage(), 'disk.img');
  const file = await validXml(await tool('virt-inspector', ['--format=raw', '-a', linux]));
  assert.equal(await xpath(file, 'string(//operatingsystem/root)'), '/dev/vg0/root');
  assert.equal(await xpath(file, 'string(//operatingsystem/distro)'), 'debian');
  assert.equal(await xpath(file, 'string(//mountpoint[@dev="/dev/sda1"])'), '/boot');
  assert.equal(await xpath(file, 'count(//application)'), '40');
  const rpm = await rpmImage();
  const rfile = await validXml(await tool('virt-inspector', ['--format=raw', '-a', join(rpm, 'sda.img'), '-a', join(rpm, 'sdb.img')]));
  assert.equal(await xpath(rfile, 'string(//application[name="openssl-libs"]/epoch)'), '1');
  assert.equal(await xpath(rfile, 'string(//mountpoint[@dev="/dev/sdb"])'), '/var/log');
  const win = join(await windowsImage(SPECS.mbr), 'disk.img');
  const wfile = await validXml(await tool('virt-inspector', ['-a', win, '--format=raw']));
  assert.equal(await xpath(wfile, 'string(//windows_current_control_set)'), 'ControlSet002');
  assert.equal(await xpath(wfile, 'string(//drive_mapping[@name="D"])'), '/dev/sda3');
  assert.equal(await xpath(wfile, 'string(//application[name="Notepad++"]/url)'), 'https://notepad-plus-plus.org/');
});

test('virt-inspector --json gives the facts inspectGuest gives; --no-applications leaves them out', async () => {
  const win = join(await windowsImage(SPECS.gpt), 'disk.img');
  const json = JSON.parse(await tool('virt-inspector', ['--json', '--format=raw', '-a', win])) as { operatingsystems: unknown[] };
  const guest = await Guest.open([{ path: win, format: 'raw' }]);
  try {
    assert.deepEqual(json.operatingsystems, (await inspectGuest(guest)).oses);
  } finally {
    await guest.close();
  }
  const bare = JSON.parse(await tool('virt-inspector', ['--json', '--no-applications', '-a', win])) as { operatingsystems: { applications?: unknown }[] };
  assert.equal(bare.operatingsystems[0]!.applications, undefined);
  assert.doesNotMatch(await tool('virt-inspector', ['--no-applications', '-a', win]), /<applications>/);
});

test('two disks holding two operating systems are one guest with both, Windows letters still found by signature', async () => {
  const linux = join(await linuxImage(), 'disk.img');
  const win = join(await windowsImage(SPECS.mbr), 'disk.img');
  const file = await validXml(await tool('virt-inspector', ['--format=raw', '-a', linux, '-a', win, '--no-applications']));
  assert.equal(await xpath(file, 'count(//operatingsystem)'), '2');
  assert.equal(await xpath(file, 'string(//operatingsystem[name="windows"]/root)'), '/dev/sdb2');
  assert.equal(await xpath(file, 'string(//drive_mapping[@name="C"])'), '/dev/sdb2');
  assert.equal(await xpath(file, 'string(//operatingsystem[name="linux"]/hostname)'), 'webserver');
});

test('virt-inspector --each: one JSON line per image, a bad image says why and the rest go on', async () => {
  const linux = join(await linuxImage(), 'disk.img');
  const win = join(await windowsImage(SPECS.gpt), 'disk.img');
  const dir = await scratch('inspector-each');
  const junk = join(dir, 'junk.img');
  await writeFile(junk, Buffer.alloc(1 << 20));
  const r = await toolStatus('virt-inspector', ['--each', '--format=raw', '--no-applications', linux, win, junk]);
  assert.equal(r.code, 0);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { image: string; operatingsystems: { hostname: string }[] });
  assert.equal(lines.length, 3);
  const by = new Map(lines.map((l) => [l.image, l]));
  assert.equal(by.get(linux)!.operatingsystems[0]!.hostname, 'webserver');
  assert.equal(by.get(win)!.operatingsystems[0]!.hostname, 'WIN-FILESRV01');
  assert.deepEqual(by.get(junk)!.operatingsystems, []);
  const missing = await toolStatus('virt-inspector', ['--each', join(dir, 'nope.img'), linux]);
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /"image":"[^"]*nope\.img","error":"[^"]*nope\.img/);
});

test('virt-inspector --each over enough images for worker threads: every image once, each line its own guest', async () => {
  const linux = join(await linuxImage(), 'disk.img');
  const win = join(await windowsImage(SPECS.mbr), 'disk.img');
  const dir = await scratch('inspector-each-workers');
  const images: string[] = [];
  for (let i = 0; i < 24; i++) {
    const o = join(dir, `guest-${i}.qcow2`);
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', i % 3 ? linux : win, '-F', 'raw', o]);
    images.push(o);
  }
  const missing = join(dir, 'gone.qcow2');
  const r = await toolStatus('virt-inspector', ['--each', '--format=qcow2', ...images, missing]);
  assert.equal(r.code, 1, 'one image failed');
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { image: string; error?: string; operatingsystems?: { hostname: string; applications: unknown[] }[] });
  assert.deepEqual(lines.map((l) => l.image).sort(), [...images, missing].sort());
  for (const l of lines) {
    if (l.image === missing) {
      assert.match(l.error!, /gone\.qcow2/);
      continue;
    }
    const os = l.operatingsystems![0]!;
    const i = Number(/guest-(\d+)/.exec(l.image)![1]);
    assert.equal(os.hostname, i % 3 ? 'webserver' : 'WIN-FILESRV01', l.image);
    assert.ok(os.applications.length > 0, l.image);
  }
});

test('a damaged SOFTWARE hive: inspection warns, names the hive, and still reports what SYSTEM says', async () => {
  const src = await windowsImage(SPECS.mbr);
  const dir = await scratch('bad-hive');
  const img = join(dir, 'disk.img');
  await copyFile(join(src, 'disk.img'), img);
  // ntfs-3g stores the small hive contiguously: find its first hbin in the disk and break the base block's signature.
  const disk = await readFile(img);
  const hive = await readFile(join(src, 'SOFTWARE'));
  const at = disk.indexOf(hive.subarray(0, 8192));
  assert.ok(at > 0 && disk.indexOf(hive.subarray(0, 8192), at + 1) < 0, 'the hive is found once');
  await run('dd', ['of=' + img, 'bs=1', `seek=${at}`, 'conv=notrunc', 'status=none'], { input: 'XXXX' });
  const r = await toolStatus('virt-inspector', ['--json', '--format=raw', '-a', img]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { operatingsystems: { hostname: string; productName: string; driveLetters: unknown[]; applications: unknown[] }[]; warnings: string[] };
  const os = out.operatingsystems[0]!;
  assert.equal(os.hostname, 'WIN-FILESRV01');
  assert.equal(os.productName, '');
  assert.equal(os.driveLetters.length, 2);
  assert.deepEqual(os.applications, []);
  assert.equal(out.warnings.length, 1);
  assert.match(out.warnings[0]!, /\/dev\/sda2: \/Windows\/System32\/config\/SOFTWARE.*/);
  assert.match(r.stderr, /virt-inspector: warning: .*SOFTWARE/);
});

test('virt-cat and virt-ls without -m inspect and mount; Windows paths go to their drive, case-insensitively', async () => {
  const win = join(await windowsImage(SPECS.mbr), 'disk.img');
  assert.equal(await tool('virt-cat', ['-a', win, 'c:\\windows\\SYSTEM32\\drivers\\etc\\HOSTS']), HOSTS);
  assert.equal(await tool('virt-cat', ['-a', win, 'D:\\Shares\\public\\README.TXT']), 'D drive\r\n');
  assert.equal(await tool('virt-ls', ['-a', win, 'D:\\']), 'Shares\n');
  assert.equal(await tool('virt-ls', ['-i', '-a', win, '/']), 'Program Files\nWindows\n');
  const noDrive = await toolStatus('virt-ls', ['-a', win, 'E:\\']);
  assert.equal(noDrive.code, 1);
  assert.match(noDrive.stderr, /no drive E: in this guest \(drives: C: D:\)/);
  const linux = join(await linuxImage(), 'disk.img');
  assert.equal(await tool('virt-cat', ['-a', linux, '/home/user/.profile']), 'PATH=$HOME/bin:$PATH\n');
  assert.equal(await tool('virt-ls', ['-a', linux, '/boot']), 'lost+found\nvmlinuz-6.1.0-13-amd64\n');
});
