/** The virt-v2v command (the bundle): options as libguestfs's, messages, machine-readable output, errors. */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { scratch } from '../fixtures/cache.js';
import { hashFile, run, runStatus } from '../fixtures/run.js';
import { BIN, tool, toolStatus } from '../e2e/tools.js';
import { linuxImage } from '../inspect/linux-image.js';

const linux = async () => join(await linuxImage(), 'disk.img');

test('virt-v2v --machine-readable alone lists what it can do', async () => {
  const caps = (await tool('virt-v2v', ['--machine-readable'])).split('\n');
  for (const c of ['virt-v2v', 'input:disk', 'input:ova', 'input:vmx', 'output:local', 'output:qemu', 'output:null', 'convert:linux', 'convert:windows']) assert.ok(caps.includes(c), c);
});

test('virt-v2v: wrong command lines are refused with virt-v2v: messages and exit 1, before anything is opened', async () => {
  const disk = await linux();
  const cases: [string[], RegExp][] = [
    [['-i', 'disk', disk], /^virt-v2v: no output given: use -o local\|qemu\|null\n/],
    [['-i', 'disk', disk, '-o', 'local'], /^virt-v2v: -o local: -os DIRECTORY is required\n/],
    [['-i', 'disk', disk, '-o', 'local', '-os', '/tmp', '-of', 'vmdk'], /^virt-v2v: -of vmdk: expecting raw, qcow2\n/],
    [['-i', 'disk', disk, '-o', 'null', '-oa', 'thin'], /^virt-v2v: -oa thin: expecting sparse, preallocated\n/],
    [['-i', 'floppy', disk, '-o', 'null'], /^virt-v2v: -i floppy: expecting disk, vmx, ova, libvirtxml\n/],
    [['-o', 'null', disk], /^virt-v2v: no input given/],
    [['-i', 'disk', disk, '-o', 'null', '--mac', '00:11:22:33:44:55:wifi:x'], /^virt-v2v: --mac 00:11:22:33:44:55:wifi:x: expecting MAC:network:NAME or MAC:bridge:NAME\n/],
    [['-i', 'disk', disk, '-o', 'null', '--network', 'a:x', '-n', 'a:y'], /^virt-v2v: --network a:y: network "a" is mapped twice\n/],
    [['-i', 'disk', disk, '-o', 'null', '--parallel', '0'], /^virt-v2v: --parallel 0: expecting a number from 1 to 64\n/],
    [['-i', 'disk', disk, '-o', 'null', '-oo', 'x=1'], /^virt-v2v: -oo: this option is not supported by guestkit's virt-v2v\n/],
    [['-i', 'disk', disk, '-o', 'local', '-os', '/nonexistent/dir'], /^virt-v2v: \/nonexistent\/dir: the output directory does not exist \(ENOENT\)\n/],
  ];
  for (const [args, message] of cases) {
    const r = await toolStatus('virt-v2v', args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('virt-v2v -o qemu -on NAME with a second data disk, --parallel 2: steps on stdout, a script sh accepts, the data disk copied unchanged', async () => {
  const disk = await linux();
  const before = await hashFile(disk);
  const dir = await scratch('v2v-cli-qemu');
  const data = join(dir, 'data.raw');
  const bytes = Buffer.alloc(3 << 20);
  bytes.write('data disk', 1 << 20);
  await writeFile(data, bytes);
  const out = join(dir, 'out');
  await run('mkdir', [out]);
  const r = await toolStatus('virt-v2v', ['-i', 'disk', disk, data, '-o', 'qemu', '-os', out, '-on', 'guest', '-of', 'qcow2', '--parallel', '2']);
  assert.equal(r.code, 0, r.stderr);
  const steps = r.stdout.split('\n').filter((l) => l.startsWith('['));
  for (const s of steps) assert.match(s, /^\[ {2}\s*\d+\.\d\] \S/);
  const names = steps.map((s) => s.slice(9));
  for (const step of ['Opening the source', 'Inspecting the source', 'Converting Debian GNU/Linux 12 (bookworm) to run on KVM', 'Copying disk 1/2', 'Copying disk 2/2', 'Creating output metadata', 'Finishing off']) {
    assert.ok(names.includes(step), `${step} in\n${r.stdout}`);
  }
  assert.match(r.stdout, /^virt-v2v: kernel 6\.1\.0-13-amd64: /m, 'the converter\'s changes are reported');
  for (const line of r.stderr.split('\n').filter(Boolean)) assert.match(line, /^virt-v2v: warning: /);
  assert.deepEqual((await readdir(out)).sort(), ['guest-sda', 'guest-sdb', 'guest.sh']);
  await run('sh', ['-n', join(out, 'guest.sh')]);
  assert.match(await readFile(join(out, 'guest.sh'), 'utf8'), new RegExp(`file=${join(out, 'guest-sdb')},format=qcow2`));
  await run('qemu-img', ['check', join(out, 'guest-sdb')]);
  assert.equal((await runStatus('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', data, join(out, 'guest-sdb')])).code, 0);
  assert.equal(await hashFile(disk), before);
});

test('virt-v2v --machine-readable -o null: JSON messages and N/100 progress lines on stdout; -q prints nothing', async () => {
  const disk = await linux();
  const lines = (await tool('virt-v2v', ['--machine-readable', '-i', 'disk', disk, '-o', 'null'])).trimEnd().split('\n');
  const progress = lines.filter((l) => /^\d+\/100$/.test(l));
  assert.ok(progress.length >= 2);
  assert.equal(progress.at(-1), '100/100');
  const json = lines.filter((l) => !/^\d+\/100$/.test(l)).map((l) => JSON.parse(l) as { message: string; timestamp: string; type: string });
  assert.ok(json.some((m) => m.type === 'message' && /Copying disk 1\/1$/.test(m.message)));
  assert.ok(json.some((m) => m.type === 'info' && m.message.startsWith('kernel ')));
  assert.ok(json.some((m) => m.type === 'warning'));
  for (const m of json) assert.ok(!Number.isNaN(Date.parse(m.timestamp)));

  const quiet = await toolStatus('virt-v2v', ['-q', '-i', 'disk', disk, '-o', 'null']);
  assert.equal(quiet.code, 0);
  assert.equal(quiet.stdout, '');
});

test('virt-v2v -v -x: verbose and trace lines on stderr', async () => {
  const r = await toolStatus('virt-v2v', ['-v', '-x', '-i', 'disk', await linux(), '-o', 'null']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^virt-v2v: verbose: \/dev\/sda: gpt partition table$/m);
  assert.match(r.stderr, /^virt-v2v: trace: guest\.filesystems\(\) = /m);
});

test('man/virt-v2v.1 renders with no warnings and documents every option', async () => {
  const page = join(BIN, '..', '..', 'man', 'virt-v2v.1');
  const r = await runStatus('man', ['--warnings', '-l', page], { env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '' } });
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  const text = r.stdout.replace(/.\x08/g, '').replace(/‐\n\s*/g, '').replace(/‐/g, '-');
  const options = ['-i disk', '-i vmx', '-i ova', '-i libvirtxml', '-if', '-ic', '-ip', '--print-source', '-o local', '-o qemu', '-o null', '-os', '-of', '-oa', '-on',
    '--mac', '--network', '--bridge', '--parallel', '--machine-readable', '--quiet', '--verbose', '-x', '--debug-overlays', '--version', '--help', 'VIRTIO_WIN'];
  for (const o of options) assert.ok(text.includes(o), `documents ${o}`);
});

test('virt-v2v --print-source prints what the input found and converts nothing', async () => {
  const disk = await linux();
  const out = await tool('virt-v2v', ['-i', 'disk', disk, '--print-source']);
  assert.match(out, /^\s+source name: disk$/m);
  assert.match(out, new RegExp(`^\\t0 ${disk}$`, 'm'));
  assert.doesNotMatch(out, /Converting|Copying/);
});

test('virt-v2v on a terminal draws the copy\'s progress bar on stderr, ending at 100%', async () => {
  // script(1) gives the command a pseudo-terminal; its output is what the terminal shows.
  const cmd = `${process.execPath} ${join(BIN, 'virt-v2v.js')} -i disk ${await linux()} -o null`;
  const shown = await run('script', ['-qec', cmd, '/dev/null']);
  assert.match(shown, /\r█ 100% \[\*{40}\]\r?\n/);
  assert.match(shown, /\r█ {3}0% \[ {40}\]/);
});
