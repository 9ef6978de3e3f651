/**
 * Crash consistency: record every write, resize and sync the driver makes, then rebuild the
 * file as a crash could leave it (everything up to some sync, plus any one later operation
 * of the next interval) and ask qemu-img check: leaks are allowed, corruption is not.
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BlockDevice } from '../../../disk/block-device.js';
import { Qcow2Device } from '../../../disk/qcow2/device.js';
import { createOverlay } from '../../../disk/qcow2/create.js';
import { RawFile } from '../../../disk/raw.js';
import { scratch } from '../../fixtures/cache.js';
import { runStatus } from '../../fixtures/run.js';
import { imageDir } from './images.js';

const MiB = 1 << 20;
const base = ['raw', 'base.raw', String(3 * MiB), String(2 * MiB), '9'];

type Op = { at: number; data: Buffer } | { size: number };

/** Open `path` writable on a RawFile whose writes, resizes and syncs are recorded. */
async function recorded(path: string, backing?: BlockDevice) {
  const file = await RawFile.open(path, true);
  const intervals: Op[][] = [[]];
  const write = file.write.bind(file);
  const resize = file.resize.bind(file);
  const flush = file.flush.bind(file);
  file.write = (offset, data) => {
    intervals.at(-1)!.push({ at: Number(offset), data: Buffer.from(data) });
    return write(offset, data);
  };
  file.resize = (size) => {
    intervals.at(-1)!.push({ size: Number(size) });
    return resize(size);
  };
  file.flush = async () => {
    await flush();
    intervals.push([]);
  };
  const dev = await Qcow2Device.open(file, path, { writable: true, ...(backing ? { backing } : {}) });
  return { dev, intervals };
}

function apply(state: Buffer, op: Op): Buffer {
  if ('size' in op) {
    const out = Buffer.alloc(op.size);
    state.copy(out, 0, 0, Math.min(state.length, op.size));
    return out;
  }
  const out = state.length >= op.at + op.data.length ? Buffer.from(state) : Buffer.concat([state, Buffer.alloc(op.at + op.data.length - state.length)]);
  op.data.copy(out, op.at);
  return out;
}

async function checkCrashStates(initial: Buffer, intervals: Op[][], dir: string): Promise<number> {
  const path = join(dir, 'crashed.qcow2');
  let synced = initial;
  let checked = 0;
  for (const ops of intervals) {
    for (const op of ops) {
      await writeFile(path, apply(synced, op));
      const check = await runStatus('qemu-img', ['check', path]);
      assert.ok(check.code === 0 || check.code === 3, `crash state ${checked}: qemu-img check exit ${check.code}: ${check.stdout}${check.stderr}`);
      checked++;
    }
    synced = ops.reduce(apply, synced);
  }
  return checked;
}

/** A few writes of mixed sizes with a flush after every `every`. */
async function writes(dev: BlockDevice, n: number, every: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const len = [700, 70000, 5000, 131072][i % 4]!;
    const at = BigInt((i * 618033 + 4095) % (Number(dev.size) - len));
    await dev.write(at, Buffer.alloc(len, i + 1));
    if (i % every === every - 1) await dev.flush();
  }
}

test('qcow2 crash states while rewriting a compressed image are never corrupt', async () => {
  const from = await imageDir('crash-compressed', [base, ['qemu-img', 'convert', '-c', '-O', 'qcow2', 'base.raw', 'img.qcow2']]);
  const dir = await scratch('qcow2-crash-compressed');
  const path = join(dir, 'img.qcow2');
  await copyFile(join(from, 'img.qcow2'), path);
  const initial = await readFile(path);
  const { dev, intervals } = await recorded(path);
  await writes(dev, 12, 4);
  await dev.close();
  assert.ok(intervals.length > 4, 'flushes happened');
  assert.ok((await checkCrashStates(initial, intervals, dir)) > 30, 'enough crash states checked');
});

test('qcow2 crash states of a new overlay are never corrupt', async () => {
  const from = await imageDir('crash-overlay', [base]);
  const dir = await scratch('qcow2-crash-overlay');
  await copyFile(join(from, 'base.raw'), join(dir, 'base.raw'));
  const path = join(dir, 'over.qcow2');
  await (await createOverlay(await RawFile.open(join(dir, 'base.raw')), path, { backingName: 'base.raw', backingFormat: 'raw', clusterSize: 4096 })).close();
  const initial = await readFile(path);
  const { dev, intervals } = await recorded(path, await RawFile.open(join(dir, 'base.raw')));
  await writes(dev, 12, 4);
  await dev.close();
  assert.ok((await checkCrashStates(initial, intervals, dir)) > 30, 'enough crash states checked');
});
