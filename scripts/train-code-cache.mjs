#!/usr/bin/env node
/**
 * `npm run build`, after bundling: make each command's V8 code cache (dist/bin/NAME.cache,
 * read by run-bundle.js) by running the command on the demo disks as users do. A cache holds
 * the code of every function its runs compiled, so the runs go through the usual paths:
 * qcow2, MBR and GPT, ext4, NTFS and FAT, inspection of Linux and Windows, and a guestmount
 * daemon serving `ls -R` and `cat` (skipped where /dev/fuse cannot be used), and the tools on
 * a disk served over HTTP. Runs of one
 * command add to its cache. Commands not trained here get a cache of their top-level code
 * from their first line below.
 */
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:fs';
import { access, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'dist', 'bin');
const linux = join(root, 'demo', 'demo.qcow2');
const windows = join(root, 'demo', 'windows.qcow2');
const env = { ...process.env, GUESTKIT_TRAIN_CODE_CACHE: '1' };

const run = (file, args) => execFileSync(file, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
const node = (cmd, args) => run(process.execPath, [join(bin, `${cmd}.js`), ...args]);

node('virt-filesystems', ['-a', windows, '-a', linux, '--all', '--long', '-h']);
node('virt-ls', ['-a', linux, '-m', '/dev/sda2', '-m', '/dev/sda1:/boot/efi', '-lR', '/']);
node('virt-ls', ['-a', windows, '-lR', 'C:\\']);
node('virt-cat', ['-a', linux, '-m', '/dev/sda2', '/etc/os-release']);
node('virt-cat', ['-a', windows, '-m', '/dev/sda2', '/Data/Reports/q1.txt']);
for (const disk of [linux, windows]) node('virt-inspector', ['-a', disk]);
node('virt-inspector', ['--each', linux, windows]);
for (const cmd of ['guestunmount', 'virt-v2v', 'demo']) node(cmd, ['--help']);
await trainRemote();

/**
 * The tools on a demo disk over HTTP, served with ranges by this process (so these runs are
 * asynchronous): the caches then hold the remote layer, and undici's and tough-cookie's own
 * bundles get theirs.
 */
async function trainRemote() {
  const fh = await open(linux);
  const { size } = await fh.stat();
  const server = createServer(async (req, res) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (req.method === 'HEAD') return void res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' }).end();
    if (!m) return void res.writeHead(416).end();
    const start = Number(m[1]);
    const buf = Buffer.alloc(Math.min(Number(m[2]), size - 1) - start + 1);
    await fh.read(buf, 0, buf.length, start);
    res.writeHead(206, { 'content-range': `bytes ${start}-${start + buf.length - 1}/${size}`, 'content-length': buf.length }).end(buf);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${server.address().port}/demo.qcow2`;
  const remote = (cmd, args) => promisify(execFile)(process.execPath, [join(bin, `${cmd}.js`), ...args], { env });
  try {
    await remote('virt-filesystems', ['-a', url, '--all', '--long']);
    await remote('virt-cat', ['-a', url, '-m', '/dev/sda2', '/etc/os-release']);
    await remote('virt-inspector', ['-a', url]);
  } finally {
    server.close();
    await fh.close();
  }
}

/** Mount each demo disk, read it all, unmount; false (nothing left mounted) if a mount fails. */
async function trainMount() {
  const mnt = await mkdtemp(join(tmpdir(), 'guestkit-train-'));
  try {
    for (const disk of [windows, linux]) {
      try {
        run(join(bin, 'guestmount'), ['--ro', '-i', '-a', disk, mnt]);
      } catch {
        return false;
      }
      try {
        run('ls', ['-lR', mnt]);
        const top = await readdir(mnt);
        run('find', [join(mnt, top[0] ?? ''), '-type', 'f', '-exec', 'cat', '{}', '+']);
      } finally {
        // guestunmount returns once the daemon has exited, so its cache is written.
        run(process.execPath, [join(bin, 'guestunmount.js'), mnt]);
      }
    }
    return true;
  } finally {
    await rm(mnt, { recursive: true, force: true });
  }
}

const fuse = await access('/dev/fuse', constants.R_OK | constants.W_OK).then(() => true, () => false);
if (!fuse || !(await trainMount())) {
  // A host where FUSE cannot mount still gets a working build; npm start says why it cannot mount.
  node('guestmount', ['--help']);
  console.log(`train-code-cache: ${fuse ? 'guestmount could not mount here' : '/dev/fuse is not usable here'}; guestmount's cache holds only its start`);
}
