/**
 * SOFTWARE\Microsoft\Windows\CurrentVersion\DevicePath: the directories Plug and Play searches
 * for driver packages when it finds a new device (REG_EXPAND_SZ, ';'-separated). The virtio
 * driver directory is appended once, so devices found on the first boot get their drivers.
 */
import { REG } from '../../../inspect/hive/hive.js';
import { setValue, type NamedHive, type RegData } from './registry.js';

const KEY = ['Microsoft', 'Windows', 'CurrentVersion'];

export function appendDevicePath(h: NamedHive, dir: string, report: (m: string) => void, warn: (m: string) => void): void {
  const key = h.hive.key(KEY.join('\\'));
  if (!key) {
    warn(`${h.root}\\${KEY.join('\\')}: no such key: DevicePath not set, so Plug and Play will not find the virtio drivers by itself (the first-boot script installs them)`);
    return;
  }
  const old = key.value('DevicePath');
  const current = old && (old.type === REG.SZ || old.type === REG.EXPAND_SZ) ? old.string() : '%SystemRoot%\\inf';
  if (current.split(';').some((d) => d.toLowerCase() === dir.toLowerCase())) return;
  const value: RegData = { type: REG.EXPAND_SZ, data: Buffer.from(`${current};${dir}\0`, 'utf16le') };
  setValue(h, key, KEY, 'DevicePath', value, report);
}
