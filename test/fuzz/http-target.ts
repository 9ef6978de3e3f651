/**
 * The HTTP target: the remote layer reads through our fault server, whose answers are
 * damaged at random (status, Content-Length, Content-Range, Accept-Ranges, bodies cut short
 * or too long). Every read must either return exactly the file's bytes or fail with a
 * DiskError: never silent wrong data.
 */
import { HttpDevice } from '../../remote/http-device.js';
import { fromBuffer, startFaultServer, type Answer } from '../remote/fault-server.js';
import type { Rand } from './mutate.js';

const SIZE = 1 << 20;

/** The file served: every 4 bytes differ, so a misplaced range shows. */
export function httpContent(): Buffer {
  const b = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i += 4) b.writeUInt32LE((i * 2654435761) >>> 0, i);
  return b;
}

const NUMBERS = ['0', '1', String(SIZE - 1), String(SIZE), String(SIZE + 1), '2147483648', '9223372036854775808', '18446744073709551616', '-1', 'abc', ''];

/** One damage to an answer, chosen by `rnd`, or none. */
function damageAnswer(rnd: Rand, a: Answer, method: string, ops: string[]): Answer {
  if (rnd(3) !== 0) return a;
  const n = () => NUMBERS[rnd(NUMBERS.length)]!;
  const op = rnd(8);
  switch (op) {
    case 0:
      a.status = [200, 204, 206, 301, 400, 401, 404, 416, 500, 503][rnd(10)]!;
      break;
    case 1:
      a.headers['content-length'] = n();
      break;
    case 2: {
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(a.headers['content-range'] ?? '');
      const parts = m ? [m[1]!, m[2]!, m[3]!] : ['0', '0', '0'];
      parts[rnd(3)] = rnd(2) ? n() : '*';
      a.headers['content-range'] = `bytes ${parts[0]}-${parts[1]}/${parts[2]}`;
      break;
    }
    case 3:
      a.headers['content-range'] = ['', 'bytes', 'bytes */1048576', 'items 0-1/2', 'bytes 0-1/2, bytes 3-4/5'][rnd(5)]!;
      break;
    case 4:
      delete a.headers['accept-ranges'];
      break;
    case 5:
      a.cut = rnd(a.body.length + 1);
      break;
    case 6:
      a.body = Buffer.concat([a.body, Buffer.alloc(1 + rnd(4096), 0x41)]);
      delete a.headers['content-length'];
      break;
    default:
      if (a.body.length > 0) a.body = Buffer.from(a.body.subarray(0, rnd(a.body.length)));
  }
  ops.push(`${method} answer damaged (${op}): ${a.status} ${JSON.stringify(a.headers)} body ${a.body.length}${a.cut !== undefined ? ` cut ${a.cut}` : ''}`);
  return a;
}

/** Open, read a few ranges, compare; returns the reads that came back. */
export async function httpCase(rnd: Rand, content: Buffer, ops: string[]): Promise<number> {
  const server = await startFaultServer(BigInt(content.length), fromBuffer(content), { mangle: (a, m) => damageAnswer(rnd, a, m, ops) });
  let good = 0;
  try {
    const dev = await HttpDevice.open(new URL(server.url), {
      connections: 1,
      requestSize: 64 << 10,
      timeout: 2000,
      retry: { retries: 2, maxTime: 2000, baseDelay: 1, maxDelay: 5 },
    });
    try {
      for (let k = 0; k < 4; k++) {
        const at = rnd(content.length - 1);
        const len = 1 + rnd(Math.min(200_000, content.length - at));
        const got = await dev.read(BigInt(at), len);
        if (!got.equals(content.subarray(at, at + len))) throw new Error(`read of ${len} bytes at ${at} returned wrong data`);
        good++;
      }
    } finally {
      await dev.close();
    }
  } finally {
    await server.stop();
  }
  return good;
}
