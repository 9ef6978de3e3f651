/**
 * A reader that falls behind, for the read-ring tests: it connects through `ringConnector`,
 * sends `request` if given, reads nothing for a while (the socket queues what it holds and
 * stops reading), then reads to the end, pausing now and then so the queue fills again.
 */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { buildConnector } from 'undici';
import { type RingCounts, ringConnector } from '../../remote/read-ring.js';

export interface PausedRead {
  /** Every byte the connection received, in order. */
  bytes: Buffer;
  counts: RingCounts;
}

export async function readPaused(base: buildConnector.BuildOptions, to: { hostname: string; port: string; protocol: 'http:' | 'https:' }, request?: string): Promise<PausedRead> {
  const { buildConnector } = await import('undici');
  const counts: RingCounts = { laps: 0, freshSlabs: 0 };
  const socket = await new Promise<Socket>((resolve, reject) => ringConnector(buildConnector, base, counts)(to, (err, s) => (err ? reject(err) : resolve(s as Socket))));
  if (request !== undefined) socket.write(request);
  await sleep(300);
  const got: Buffer[] = [];
  let n = 0;
  for await (const chunk of socket) {
    got.push(Buffer.from(chunk as Buffer));
    if (++n % 50 === 0) await sleep(20);
  }
  return { bytes: Buffer.concat(got), counts };
}
