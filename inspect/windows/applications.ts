/** Installed programs from SOFTWARE's Uninstall keys, the 64-bit view and the 32-bit (WOW6432Node) one. */
import type { Hive, HiveKey } from '../hive/hive.js';
import type { Application } from '../os-info.js';
import { valueText } from './registry.js';

const UNINSTALL = ['Microsoft\\Windows\\CurrentVersion\\Uninstall', 'WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall'];

const FIELDS: [keyof Application, string][] = [
  ['displayName', 'DisplayName'], ['version', 'DisplayVersion'], ['publisher', 'Publisher'],
  ['installPath', 'InstallLocation'], ['url', 'URLInfoAbout'], ['description', 'Comments'],
];

export function windowsApplications(software: Hive): Application[] {
  const apps: Application[] = [];
  for (const path of UNINSTALL) {
    for (const k of software.key(path)?.subkeys() ?? []) apps.push(application(k));
  }
  return apps;
}

function application(k: HiveKey): Application {
  const app: Application = { name: k.name };
  for (const [field, value] of FIELDS) {
    const v = k.value(value);
    const text = v && valueText(v);
    if (text) (app as unknown as Record<string, string>)[field] = text;
  }
  return app;
}
