/**
 * The write workload of the crash harness, run by python3 in its own process with its cwd on
 * the mount: seeded creates, appends, mkdirs, renames and unlinks under `crash/`, each
 * followed by fsync of the file and its directory. It logs to a host file outside the mount
 * "begin OP ARGS" before an operation and "ack" once its fsyncs returned, so the checker
 * knows what was acknowledged and which one operation was in flight at the kill.
 *
 * A file's bytes are a stream named by its id (sha256 of "id:k" for k = 0, 1, …), so any
 * length of it can be recomputed here; appends extend the same stream.
 */
import { createHash } from 'node:crypto';

export const WORKLOAD_PY = String.raw`
import hashlib, os, random, sys
log = open(sys.argv[1], 'a', buffering=1)
rnd = random.Random(int(sys.argv[2]))

def stream(id, n):
    out = bytearray()
    k = 0
    while len(out) < n:
        out += hashlib.sha256(('%s:%d' % (id, k)).encode()).digest()
        k += 1
    return bytes(out[:n])

def sync(path):
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)

def parent(p):
    return os.path.dirname(p) or '.'

def write_all(fd, data):
    # Several write() calls of random sizes, as applications do.
    while data:
        n = min(len(data), 1 + rnd.randrange(20000))
        os.write(fd, data[:n])
        data = data[n:]

log.write('begin mkdir crash\n')
os.mkdir('crash')
sync('.')
log.write('ack\n')
dirs = ['crash']
files = {}
n = 0
while True:
    n += 1
    op = rnd.choice(['create', 'create', 'create', 'append', 'append', 'mkdir', 'rename', 'unlink'])
    if op in ('append', 'rename', 'unlink') and not files:
        op = 'create'
    if op == 'create':
        path = '%s/f%d' % (rnd.choice(dirs), n)
        fid = 'id%d' % n
        size = rnd.randrange(60000)
        log.write('begin create %s %s %d\n' % (path, fid, size))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        write_all(fd, stream(fid, size))
        os.fsync(fd)
        os.close(fd)
        sync(parent(path))
        files[path] = (fid, size)
    elif op == 'append':
        path = rnd.choice(sorted(files))
        fid, old = files[path]
        new = old + 1 + rnd.randrange(30000)
        log.write('begin append %s %d %d\n' % (path, old, new))
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        write_all(fd, stream(fid, new)[old:])
        os.fsync(fd)
        os.close(fd)
        files[path] = (fid, new)
    elif op == 'mkdir':
        path = '%s/d%d' % (rnd.choice(dirs), n)
        log.write('begin mkdir %s\n' % path)
        os.mkdir(path)
        sync(parent(path))
        dirs.append(path)
    elif op == 'rename':
        old = rnd.choice(sorted(files))
        new = '%s/r%d' % (rnd.choice(dirs), n)
        log.write('begin rename %s %s\n' % (old, new))
        os.rename(old, new)
        sync(parent(old))
        sync(parent(new))
        files[new] = files.pop(old)
    else:
        path = rnd.choice(sorted(files))
        log.write('begin unlink %s\n' % path)
        os.unlink(path)
        sync(parent(path))
        del files[path]
    log.write('ack\n')
`;

/** The first `n` bytes of stream `id`, as the workload writes them. */
export function stream(id: string, n: number): Buffer {
  const parts: Buffer[] = [];
  for (let k = 0, got = 0; got < n; k++, got += 32) parts.push(createHash('sha256').update(`${id}:${k}`).digest());
  return Buffer.concat(parts).subarray(0, n);
}

type Op = { op: 'create'; path: string; id: string; size: number } | { op: 'append'; path: string; old: number; size: number } | { op: 'mkdir'; path: string } | { op: 'rename'; from: string; to: string } | { op: 'unlink'; path: string };

/** What the log says: acknowledged files and directories, and the operation in flight, if any. */
export interface Acknowledged {
  files: Map<string, { id: string; size: number }>;
  dirs: Set<string>;
  acks: number;
  inFlight: Op | null;
}

export function parseLog(text: string): Acknowledged {
  const files = new Map<string, { id: string; size: number }>();
  const dirs = new Set<string>();
  let pending: Op | null = null;
  let acks = 0;
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'begin') {
      const [, op, a = '', b = '', c = ''] = f;
      if (op === 'create') pending = { op, path: a, id: b, size: Number(c) };
      else if (op === 'append') pending = { op, path: a, old: Number(b), size: Number(c) };
      else if (op === 'mkdir' || op === 'unlink') pending = { op, path: a };
      else if (op === 'rename') pending = { op, from: a, to: b };
    } else if (f[0] === 'ack' && pending) {
      acks++;
      const p: Op = pending;
      if (p.op === 'create') files.set(p.path, { id: p.id, size: p.size });
      else if (p.op === 'append') files.set(p.path, { id: files.get(p.path)!.id, size: p.size });
      else if (p.op === 'mkdir') dirs.add(p.path);
      else if (p.op === 'rename') {
        files.set(p.to, files.get(p.from)!);
        files.delete(p.from);
      } else files.delete(p.path);
      pending = null;
    }
  }
  return { files, dirs, acks, inFlight: pending };
}
