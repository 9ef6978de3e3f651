/**
 * A raw disk whose guest wrote a qcow2 header naming a host file as its backing file: probed,
 * it opens nothing it names (strace proves the host file is never opened); with the format
 * given, backing files open read-only, and FIFOs, character devices and directories are
 * refused even then. Each refusal is one line naming the image.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN } from '../e2e/tools.js';
import { scratch } from '../fixtures/cache.js';
import { run, runStatus } from '../fixtures/run.js';

/** A qcow2 header (what a guest could write to its raw disk) naming `backing`. */
async function carrier(dir: string, name: string, backing: string): Promise<string> {
  const img = join(dir, name);
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-b', backing, '-F', 'raw', img, '1M']);
  return img;
}

/** Run a tool under strace; returns its result and every path it opened. */
async function traced(tool: string, args: string[]): Promise<{ code: number; stderr: string; opened: string[] }> {
  const log = join(await scratch('strace'), 'log');
  const r = await runStatus('timeout', ['60', 'strace', '-f', '-qq', '-e', 'trace=open,openat,openat2', '-o', log, process.execPath, join(BIN, `${tool}.js`), ...args]);
  const opened = [...(await readFile(log, 'utf8')).matchAll(/open(?:at2?)?\((?:[^,]*, )?"([^"]*)"/g)].map((m) => m[1]!);
  return { code: r.code, stderr: r.stderr, opened };
}

test('a probed image naming /etc/shadow as its backing file is refused, and /etc/shadow is never opened', async () => {
  const dir = await scratch('hostile-backing');
  const img = await carrier(dir, 'disk.raw', '/etc/shadow');
  for (const tool of ['virt-filesystems', 'virt-ls']) {
    const r = await traced(tool, ['-a', img, ...(tool === 'virt-ls' ? ['/'] : [])]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^${tool}: ${img}: names a backing file \\("/etc/shadow"\\), but its format was only probed.*--format=qcow2`));
    assert.ok(r.opened.includes(img), 'the image itself was opened');
    assert.ok(!r.opened.some((p) => p.includes('shadow')), `opened: ${r.opened.filter((p) => p.includes('shadow'))}`);
  }
  // Given as raw, it is the guest's bytes: 1 MiB is not asked of any backing file.
  const raw = await traced('virt-filesystems', ['--format=raw', '-a', img, '--all']);
  assert.equal(raw.code, 0, raw.stderr);
  assert.ok(!raw.opened.some((p) => p.includes('shadow')));
});

test('with --format=qcow2, a FIFO, a character device or a directory as backing file is still refused, without blocking', async () => {
  const dir = await scratch('hostile-backing-kinds');
  await run('mkfifo', [join(dir, 'fifo')]);
  for (const [backing, kind] of [[join(dir, 'fifo'), 'a FIFO'], ['/dev/zero', 'a character device'], ['/dev/tty', 'a character device'], [dir, 'a directory']] as const) {
    const img = await carrier(dir, `over-${kind.replace(/ /g, '-')}-${backing.length}.qcow2`, backing);
    const r = await runStatus('timeout', ['60', process.execPath, join(BIN, 'virt-filesystems.js'), '--format=qcow2', '-a', img]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `virt-filesystems: ${backing}: is ${kind}, not a disk image (only regular files and block devices can be opened)\n`);
  }
});
