/**
 * Lock images for writing the way qemu does, so a running VM, qemu-img and a second
 * guestmount see each other. qemu takes OFD read locks (fcntl F_OFD_SETLK) on byte
 * 100+bit for each permission it holds and 200+bit for each permission it does not share
 * (bits: 0 consistent read, 1 write, 3 resize, 4 graph change), and before that tests with
 * F_OFD_GETLK for a would-be write lock on the bytes that conflict with it.
 *
 * Node has no fcntl(), and an OFD lock lives as long as its open file description, so the
 * locks are taken and held by a small python3 child whose stdin is a pipe from this
 * process: when this process ends, even by SIGKILL, the pipe closes and the locks go with it.
 */
import type { ChildProcess } from 'node:child_process';

/** Bytes whose lock by someone else means they hold or refuse what a writer needs. */
const TEST = [200, 201, 203, 101, 103, 104];
/** Our permissions (read, write, resize) and the ones we do not share (write, resize, graph). */
const TAKE = [100, 101, 103, 201, 203, 204];

const HELPER = `
import fcntl, os, struct, sys
F_OFD_GETLK, F_OFD_SETLK, F_RDLCK, F_WRLCK, F_UNLCK = 36, 37, 0, 1, 2
FMT = 'hhqqi4x'
test, take = [int(b) for b in sys.argv[1].split(',')], [int(b) for b in sys.argv[2].split(',')]
fds = []
for path in sys.argv[3:]:
    try:
        fd = os.open(path, os.O_RDONLY)
        fds.append(fd)
        for b in test:
            if struct.unpack(FMT, fcntl.fcntl(fd, F_OFD_GETLK, struct.pack(FMT, F_WRLCK, 0, b, 1, 0)))[0] != F_UNLCK:
                print('busy', path, flush=True); sys.exit(3)
        for b in take:
            fcntl.fcntl(fd, F_OFD_SETLK, struct.pack(FMT, F_RDLCK, 0, b, 1, 0))
    except OSError as e:
        print('error', path, e.strerror, flush=True); sys.exit(1)
print('ok', flush=True)
sys.stdin.read()
`;

export class ImageLockError extends Error {
  constructor(readonly image: string, detail: string) {
    super(`${image}: ${detail}`);
  }
}

/** Lock every image for writing; resolves once all are held, rejects naming the one in use. */
export async function lockImages(paths: string[]): Promise<{ release(): void }> {
  // Loaded here: a read-only mount, the common case, takes no locks.
  const [{ spawn }, { createInterface }] = await Promise.all([import('node:child_process'), import('node:readline')]);
  let child: ChildProcess;
  try {
    child = spawn('python3', ['-c', HELPER, TEST.join(','), TAKE.join(','), ...paths], { stdio: ['pipe', 'pipe', 'inherit'] });
  } catch (e) {
    throw new Error(`cannot lock the images: ${(e as Error).message}`);
  }
  const first = await new Promise<string>((resolve) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (l) => resolve(l));
    child.once('error', (e) => resolve(`error ${paths[0]} ${e.message} (python3 takes the image locks)`));
    child.once('exit', () => resolve('error - lock helper exited'));
  });
  if (first !== 'ok') {
    child.kill();
    const [kind, image = '', ...rest] = first.split(' ');
    if (kind === 'busy') {
      throw new ImageLockError(image, 'is in use by another process (qemu or another guestmount holds a lock on it); use --ro to open it read-only');
    }
    throw new ImageLockError(image, `cannot lock: ${rest.join(' ')}`);
  }
  // The helper must not keep this process alive, only live as long as it.
  child.unref();
  (child.stdout as unknown as { unref?: () => void })?.unref?.();
  (child.stdin as unknown as { unref?: () => void })?.unref?.();
  return { release: () => child.kill() };
}
