/**
 * Reading a 1 GiB image over loopback HTTP: guestkit's remote layer (sequential 1 MiB reads,
 * as a copy does) against curl fetching the file in one stream, qemu's curl driver
 * (`qemu-img convert` from a qcow2 overlay with a `json:` backing) and nbdkit's curl plugin
 * where installed; then again through a proxy that holds every chunk 10 ms each way (a 20 ms
 * round trip: this kernel has no sch_netem, so `tc qdisc ... netem` is not available).
 * Run: node dist/bench/remote.js
 */
import { existsSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRemote } from '../remote/open.js';
import { createRemoteOverlay } from '../remote/overlay.js';
import { fixture } from '../test/fixtures/cache.js';
import { startNginx } from '../test/remote/nginx.js';
import { bestPairs, measure, measureCommand, printComparison, readAll, runCommand, type Measurement } from './measure.js';

const GiB = 1 << 30;
const MiB = 1 << 20;
const RUNS = Number(process.env['RUNS'] ?? 2);

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

const ours = (url: string, label = 'guestkit remote (1 MiB sequential)') => async (): Promise<Measurement> => {
  const dev = await openRemote(url);
  try {
    return await measure(label, GiB, () => readAll(dev, MiB, 1));
  } finally {
    await dev.close();
  }
};

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

const ng = await startNginx(dir);
try {
  const url = `${ng.origin}/disk.raw`;
  const curl = () => measureCommand('curl (one stream)', GiB, 'curl', ['-s', '-o', '/dev/null', url]);
  const [a, b] = await bestPairs(RUNS, ours(url), curl);
  printComparison('1 GiB over loopback HTTP (nginx): guestkit vs curl', a, b);
  const [c, d] = await bestPairs(RUNS, ours(url), await qemuOverlay(url));
  printComparison("1 GiB over loopback HTTP (nginx): guestkit vs qemu's curl driver", c, d);
  if (existsSync('/usr/lib/x86_64-linux-gnu/nbdkit/plugins/nbdkit-curl-plugin.so')) {
    const [e, f] = await bestPairs(RUNS, ours(url), nbdkitCurl(url));
    printComparison('1 GiB over loopback HTTP (nginx): guestkit vs nbdkit curl plugin', e, f);
  }
} finally {
  await ng.stop();
}

/**
 * A TCP proxy to `port` that forwards every chunk `ms` later in each direction: a round trip
 * of 2 × ms on every request, including the connection's set-up, with loopback bandwidth.
 */
async function delayingProxy(port: number, ms: number): Promise<{ url: (path: string) => string; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const pipe = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => setTimeout(() => to.write(chunk), ms));
    from.on('end', () => setTimeout(() => to.end(), ms));
    from.on('error', () => to.destroy());
  };
  const server = createServer((client) => {
    const upstream = createConnection(port, '127.0.0.1');
    for (const s of [client, upstream]) sockets.add(s);
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${own}${path}`,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const ng2 = await startNginx(dir);
const proxy = await delayingProxy(Number(new URL(ng2.origin).port), 10);
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
