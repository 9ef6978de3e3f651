/** A Windows root: registry facts, the architecture of cmd.exe, drive letters, installed programs. */
import type { Partition } from '../../volume/types.js';
import { peArch } from '../arch.js';
import { osInfo, type OsInfo, type RootContext } from '../os-info.js';
import { applyRules } from '../rules.js';
import type { FsSource } from '../source.js';
import { windowsApplications } from './applications.js';
import { driveLetters } from './drives.js';
import { Registry } from './registry.js';
import { WINDOWS_RULES } from './rules.js';

/** Enough of an executable for the DOS stub and the PE header it points to. */
const PE_HEAD = 4096;

export async function inspectWindows(ctx: RootContext & { src: FsSource; partitions: Partition[] }): Promise<OsInfo> {
  const { src, warn } = ctx;
  const systemroot = ctx.facts['systemroot'] ?? '/Windows';
  const reg = new Registry(src, systemroot, warn);
  src.registry = (hive, key, value) => reg.text(hive, key, value);
  const facts = await applyRules(WINDOWS_RULES, src, ctx.facts);
  const head = await src.head(`${systemroot}/System32/cmd.exe`, PE_HEAD);
  const os = osInfo(ctx.root, 'windows', facts, (head && peArch(head)) || '', [{ mountpoint: '/', device: ctx.root }], ctx.all);
  const system = await reg.hive('SYSTEM');
  if (system) os.driveLetters = readOr(() => driveLetters(system, ctx.partitions), [], warn);
  if (ctx.applications) {
    const software = await reg.hive('SOFTWARE');
    os.applications = software ? readOr(() => windowsApplications(software), [], warn) : [];
  }
  return os;
}

/** A damaged hive loses what it holds, not the whole inspection. */
function readOr<T>(fn: () => T, fallback: T, warn: (m: string) => void): T {
  try {
    return fn();
  } catch (e) {
    warn((e as Error).message);
    return fallback;
  }
}
