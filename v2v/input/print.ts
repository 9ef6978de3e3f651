/**
 * `--print-source`: what the input found, laid out as libguestfs's virt-v2v prints it
 * (string_of_source), minus the fields our Source does not carry (hypervisor, genid, CPU
 * model, display, sound), and with each disk's name after its index.
 */
import type { Source } from '../types.js';

export function printSource(s: Source): string {
  const field = (label: string, value: string) => `${label.padStart(15)}: ${value}\n`;
  const lines = (items: string[]) => (items.length ? items.map((l) => `\t${l}\n`).join('') : '\n');
  return (
    field('source name', s.name) +
    field('memory', `${s.memory} (bytes)`) +
    field('nr vCPUs', String(s.vcpus)) +
    field('firmware', s.firmware) +
    'disks:\n' +
    lines(s.disks.map((d, i) => `${i}${d.bus ? ` [${d.bus}]` : ''} ${d.name}`)) +
    'removable media:\n' +
    lines(s.cdroms.map((c) => `CD-ROM [${c.bus}]${c.image ? ` ${c.image}` : ''}`)) +
    'NICs:\n' +
    lines(s.nics.map((n) => `${n.vnetType === 'bridge' ? 'Bridge' : 'Network'} "${n.network}"${n.mac ? ` mac: ${n.mac}` : ''}${n.model ? ` [${n.model}]` : ''}`))
  );
}
