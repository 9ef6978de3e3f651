/** A Windows root's registry hives (SYSTEM, SOFTWARE), each loaded once when a rule first asks. */
import { Hive, REG, type HiveValue } from '../hive/hive.js';
import { DATABASE_CAP, type FsSource } from '../source.js';

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
      const hive = Hive.parse(bytes, `${this.src.device}: ${path}`);
      if (hive.dirty) this.warn(`${this.src.device}: ${path}: hive is dirty (changes wait in its .LOG files); read as it is`);
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
