/**
 * A TCP proxy that forwards every chunk `ms` later in each direction: a round trip of
 * 2 × ms on every request, connection set-up included, at loopback bandwidth (this kernel
 * has no sch_netem, so `tc qdisc ... netem` is not available). It runs in a process of its
 * own, so its CPU time is not charged to the client measured, nor its work queued on that
 * client's event loop.
 * Run: node dist/bench/delay-proxy.js TARGET_PORT MS   (prints the port it listens on)
 */
import { spawn } from 'node:child_process';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface DelayProxy {
  url: (path: string) => string;
  stop: () => Promise<void>;
}

/** Start the proxy in a child process in front of 127.0.0.1:`port`. */
export async function startDelayProxy(port: number, ms: number): Promise<DelayProxy> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), String(port), String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const own = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`delay proxy exited ${code}`)));
  });
  return {
    url: (path) => `http://127.0.0.1:${own}${path}`,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

function serve(port: number, ms: number): void {
  const pipe = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => setTimeout(() => to.write(chunk), ms));
    from.on('end', () => setTimeout(() => to.end(), ms));
    from.on('error', () => to.destroy());
  };
  const server = createServer((client) => {
    const upstream = createConnection(port, '127.0.0.1');
    pipe(client, upstream);
    pipe(upstream, client);
  });
  server.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [port, ms] = process.argv.slice(2).map(Number);
  if (!port || ms === undefined || !(ms >= 0)) {
    console.error('usage: node dist/bench/delay-proxy.js TARGET_PORT MS');
    process.exit(2);
  }
  serve(port, ms);
}
