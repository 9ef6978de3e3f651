/** virt-inspector's XML, element for element as libguestfs writes it (virt-inspector.rng). */
import type { Application, OsInfo } from '../inspect/inspect.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Characters XML 1.0 cannot carry at all (a package description may hold them). */
// eslint-disable-next-line no-control-regex
const clean = (s: string) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');

/** `<name>text</name>`, or nothing when the text is empty (libguestfs leaves out unknowns). */
function el(indent: string, name: string, text: string | number | undefined): string {
  if (text === undefined || text === '') return '';
  return `${indent}<${name}>${esc(clean(String(text)))}</${name}>\n`;
}

const APP_FIELDS: [keyof Application, string][] = [
  ['name', 'name'], ['displayName', 'display_name'], ['epoch', 'epoch'], ['version', 'version'], ['release', 'release'],
  ['arch', 'arch'], ['installPath', 'install_path'], ['publisher', 'publisher'], ['url', 'url'],
  ['sourcePackage', 'source_package'], ['summary', 'summary'], ['description', 'description'],
];

export function inspectorXml(oses: OsInfo[]): string {
  let x = '<?xml version="1.0"?>\n<operatingsystems>\n';
  for (const os of oses) {
    const i = '    ';
    x += '  <operatingsystem>\n';
    x += el(i, 'root', os.root) + el(i, 'name', os.type) + el(i, 'arch', os.arch) + el(i, 'distro', os.distro);
    x += el(i, 'product_name', os.productName) + el(i, 'product_variant', os.productVariant);
    x += `${i}<major_version>${os.majorVersion}</major_version>\n${i}<minor_version>${os.minorVersion}</minor_version>\n`;
    x += el(i, 'windows_systemroot', os.windowsSystemroot) + el(i, 'windows_current_control_set', os.windowsCurrentControlSet);
    x += el(i, 'package_format', os.packageFormat) + el(i, 'package_management', os.packageManagement);
    x += el(i, 'hostname', os.hostname) + el(i, 'osinfo', os.osinfo);
    x += `${i}<mountpoints>\n`;
    for (const m of os.mountpoints) x += `${i}  <mountpoint dev="${esc(m.device)}">${esc(m.mountpoint)}</mountpoint>\n`;
    x += `${i}</mountpoints>\n${i}<filesystems>\n`;
    for (const f of os.filesystems) {
      x += `${i}  <filesystem dev="${esc(f.device)}">\n`;
      x += el(`${i}    `, 'type', f.type === 'unknown' ? '' : f.type) + el(`${i}    `, 'label', f.label) + el(`${i}    `, 'uuid', f.uuid);
      x += `${i}  </filesystem>\n`;
    }
    x += `${i}</filesystems>\n`;
    if (os.driveLetters.length) {
      x += `${i}<drive_mappings>\n`;
      for (const d of os.driveLetters) x += `${i}  <drive_mapping name="${esc(d.letter)}">${esc(d.device)}</drive_mapping>\n`;
      x += `${i}</drive_mappings>\n`;
    }
    if (os.applications) {
      x += `${i}<applications>\n`;
      for (const app of os.applications) {
        x += `${i}  <application>\n`;
        for (const [key, name] of APP_FIELDS) x += el(`${i}    `, name, key === 'epoch' && !app.epoch ? '' : app[key]);
        x += `${i}  </application>\n`;
      }
      x += `${i}</applications>\n`;
    }
    x += '  </operatingsystem>\n';
  }
  return `${x}</operatingsystems>\n`;
}
