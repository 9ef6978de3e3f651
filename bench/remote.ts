/**
 * Reading a 1 GiB image over loopback HTTP: guestkit's remote layer (sequential 1 MiB reads
 * into one reused buffer, as a copy, virt-cat and the FUSE daemon read; once more into a
 * fresh buffer per read) against curl fetching the file in one stream and fetching the same
 * 2 MiB ranges our HTTP device asks for, qemu's curl driver (`qemu-img convert` from a qcow2
 * overlay with a `json:` backing) and nbdkit's curl plugin where installed; over HTTPS
 * against curl (a throwaway certificate from openssl, where installed); then again through a
 * proxy in a process of its own that holds every chunk 10 ms each way (a 20 ms round trip,
 * `delay-proxy.ts`).
 * Run: node dist/bench/remote.js   (RUNS=N pairs per loopback comparison, best of each kept; default 5)
 */
import { existsSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRemote, type RemoteOptions } from '../remote/open.js';
import { createRemoteOverlay } from '../remote/overlay.js';
import { fixture } from '../test/fixtures/cache.js';
import { type NginxTls, startNginx } from '../test/remote/nginx.js';
import { startDelayProxy } from './delay-proxy.js';
import { bestPairs, measure, measureCommand, printComparison, readAll, runCommand, type Measurement } from './measure.js';

const GiB = 1 << 30;
const MiB = 1 << 20;
const RUNS = Number(process.env['RUNS'] ?? 5);

const dir = await fixture('remote-bench-1g', 'v1 1 GiB, each MiB a distinct pattern', async (out) => {
  await runCommand('mkdir', ['-p', out]);
  const fh = await open(join(out, 'disk.raw'), 'w');
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < GiB / MiB; i++) {
    for (let j = 0; j < MiB; j += 4) block.writeUInt32LE((i * 2654435761 + j * 40503) >>> 0, j);
    await fh.write(block, 0, MiB, i * MiB);
  }
  await fh.close();
});
const work = await mkdtemp(join(tmpdir(), 'guestkit-bench-remote-'));

/** Our remote stack reading the whole file in 1 MiB sequential reads, into one buffer or (`fresh`) a new one each. */
const ours = (url: string, label = 'guestkit remote (1 MiB readInto)', fresh = false, opts: RemoteOptions = {}) => async (): Promise<Measurement> => {
  const dev = await openRemote(url, opts);
  try {
    return await measure(label, GiB, () => readAll(dev, MiB, 1, !fresh));
  } finally {
    await dev.close();
  }
};

/**
 * curl fetching the ranges our HTTP device asks for (2 MiB each, in order) over one
 * connection: the same requests with curl's costs per byte.
 */
async function curlRanges(url: string): Promise<() => Promise<Measurement>> {
  const config = join(work, 'ranges.curl');
  const step = 2 * MiB;
  const entries: string[] = [];
  for (let at = 0; at < GiB; at += step) entries.push(`url = "${url}"\nrange = "${at}-${at + step - 1}"\noutput = "/dev/null"\n`);
  await writeFile(config, entries.join('next\n'));
  return () => measureCommand('curl (same 2 MiB ranges, one stream)', GiB, 'curl', ['-s', '-K', config]);
}

/**
 * qemu-img convert to a null target from a qcow2 overlay whose backing is the URL. With its
 * default 8 coroutines qemu 7.2's curl driver hangs after a few MiB here (reproducible), so
 * it runs with `-m 1`, the setting that completes.
 */
async function qemuOverlay(url: string): Promise<() => Promise<Measurement>> {
  const path = join(work, `overlay-${Math.random().toString(16).slice(2)}.qcow2`);
  const dev = await openRemote(url);
  await (await createRemoteOverlay(dev, path)).close();
  return () => measureCommand("qemu-img convert -m 1 (qemu's curl)", GiB, 'qemu-img', ['convert', '-m', '1', '-n', '-f', 'qcow2', '--target-image-opts', path, `driver=null-co,size=${GiB}`]);
}

/** nbdkit's curl plugin at its defaults, read by qemu-img convert over a Unix socket. */
function nbdkitCurl(url: string): () => Promise<Measurement> {
  // A fresh socket per run: nbdkit leaves its socket file behind, and binding it again fails.
  return () => {
    const sock = join(work, `nbd-${Math.random().toString(16).slice(2)}.sock`);
    return measureCommand('nbdkit curl + qemu-img convert', GiB, 'nbdkit', ['-U', sock, '--run', `qemu-img convert -n -f raw --target-image-opts "nbd+unix:///?socket=${sock}" driver=null-co,size=${GiB}`, 'curl', `url=${url}`]);
  };
}

/** A self-signed certificate for 127.0.0.1 (openssl), or undefined where openssl is missing. */
async function certificate(): Promise<NginxTls | undefined> {
  const tls = { cert: join(work, 'cert.pem'), key: join(work, 'key.pem') };
  try {
    await runCommand('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', tls.key, '-out', tls.cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    return tls;
  } catch {
    console.log('openssl not found: the https comparison is left out');
    return undefined;
  }
}

const ng = await startNginx(dir);
try {
  const url = `${ng.origin}/disk.raw`;
  const curl = () => measureCommand('curl (one stream)', GiB, 'curl', ['-s', '-o', '/dev/null', url]);
  const [a, b] = await bestPairs(RUNS, ours(url), curl);
  printComparison('1 GiB over loopback HTTP (nginx): guestkit vs curl', a, b);
  const [a2, b2] = await bestPairs(RUNS, ours(url), await curlRanges(url));
  printComparison('1 GiB over loopback HTTP (nginx): guestkit vs curl fetching the same ranges', a2, b2);
  const [a3, b3] = await bestPairs(RUNS, ours(url, 'guestkit remote (1 MiB read, fresh buffers)', true), curl);
  printComparison('1 GiB over loopback HTTP (nginx): guestkit into a fresh buffer per read vs curl', a3, b3);
  const [c, d] = await bestPairs(RUNS, ours(url), await qemuOverlay(url));
  printComparison("1 GiB over loopback HTTP (nginx): guestkit vs qemu's curl driver", c, d);
  if (existsSync('/usr/lib/x86_64-linux-gnu/nbdkit/plugins/nbdkit-curl-plugin.so')) {
    const [e, f] = await bestPairs(RUNS, ours(url), nbdkitCurl(url));
    printComparison('1 GiB over loopback HTTP (nginx): guestkit vs nbdkit curl plugin', e, f);
  }
} finally {
  await ng.stop();
}

const tls = await certificate();
if (tls) {
  const ngs = await startNginx(dir, undefined, tls);
  try {
    const url = `${ngs.origin}/disk.raw`;
    const curl = () => measureCommand('curl (one stream, https)', GiB, 'curl', ['-s', '--cacert', tls.cert, '-o', '/dev/null', url]);
    const [a, b] = await bestPairs(RUNS, ours(url, 'guestkit remote (1 MiB readInto, https)', false, { caFile: tls.cert }), curl);
    printComparison('1 GiB over loopback HTTPS (nginx): guestkit vs curl', a, b);
  } finally {
    await ngs.stop();
  }
}

const ng2 = await startNginx(dir);
const proxy = await startDelayProxy(Number(new URL(ng2.origin).port), 10);
try {
  const url = proxy.url('/disk.raw');
  const [g, h] = await bestPairs(1, ours(url, 'guestkit remote, 20 ms RTT'), await qemuOverlay(url));
  printComparison("1 GiB at 20 ms RTT: guestkit vs qemu's curl driver", g, h);
  if (existsSync('/usr/lib/x86_64-linux-gnu/nbdkit/plugins/nbdkit-curl-plugin.so')) {
    const [i, j] = await bestPairs(1, ours(url, 'guestkit remote, 20 ms RTT'), nbdkitCurl(url));
    printComparison('1 GiB at 20 ms RTT: guestkit vs nbdkit curl plugin', i, j);
  }
} finally {
  await proxy.stop();
  await ng2.stop();
  await rm(work, { recursive: true, force: true });
}
