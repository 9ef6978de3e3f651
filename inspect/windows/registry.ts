/** A Windows root's registry hives (SYSTEM, SOFTWARE), each loaded once when a rule first asks. */
import { Hive, REG, type HiveLog, type HiveValue } from '../hive/hive.js';
import { isDirty } from '../hive/log.js';
import { DATABASE_CAP, type FsSource } from '../source.js';

/** The transaction logs beside a hive, in the order they are replayed (new format: LOG1 then LOG2). */
const LOG_NAMES = ['.LOG1', '.LOG2', '.LOG'];

export class Registry {
  private readonly hives = new Map<string, Promise<Hive | undefined>>();

  constructor(
    private readonly src: FsSource,
    private readonly systemroot: string,
    private readonly warn: (m: string) => void,
  ) {}

  hive(name: string): Promise<Hive | undefined> {
    let h = this.hives.get(name);
    if (!h) {
      h = this.load(name);
      this.hives.set(name, h);
    }
    return h;
  }

  private async load(name: string): Promise<Hive | undefined> {
    const path = `${this.systemroot}/System32/config/${name}`;
    const bytes = await this.src.read(path, DATABASE_CAP);
    if (!bytes) {
      this.warn(`${this.src.device}: ${path}: no such hive`);
      return undefined;
    }
    try {
      // A dirty hive's logs are read only when needed: most hives are clean.
      const logs: HiveLog[] = [];
      if (isDirty(bytes)) {
        for (const ext of LOG_NAMES) {
          const log = await this.src.read(`${path}${ext}`, DATABASE_CAP);
          if (log) logs.push({ name: `${name}${ext}`, bytes: log });
        }
      }
      const hive = Hive.parse(bytes, `${this.src.device}: ${path}`, logs);
      if (hive.replayed.length) this.warn(`${this.src.device}: ${path}: hive is dirty: replayed in memory ${hive.replayed.join(', ')}`);
      else if (hive.dirty) this.warn(`${this.src.device}: ${path}: hive is dirty and no log applies (changes may be lost); read as it is`);
      return hive;
    } catch (e) {
      this.warn((e as Error).message);
      return undefined;
    }
  }

  async value(hive: string, key: string, name: string): Promise<HiveValue | undefined> {
    try {
      return (await this.hive(hive))?.key(key)?.value(name);
    } catch (e) {
      this.warn((e as Error).message);
      return undefined;
    }
  }

  /** A value as rules match it: strings as they are, numbers in decimal, lists one a line. */
  async text(hive: string, key: string, name: string): Promise<string | undefined> {
    const v = await this.value(hive, key, name);
    return v === undefined ? undefined : valueText(v);
  }
}

export function valueText(v: HiveValue): string {
  switch (v.type) {
    case REG.SZ:
    case REG.EXPAND_SZ:
      return v.string();
    case REG.MULTI_SZ:
      return v.strings().join('\n');
    case REG.DWORD:
    case REG.DWORD_BIG_ENDIAN:
    case REG.QWORD:
      return String(v.number());
    default:
      return v.data.toString('hex');
  }
}
