/**
 * The dispatch of `-i KIND ARGS...`: each input finds a `Source` (hardware and disks). Every
 * input but `disk` loads on demand, so `-i disk` pays for no XML parser or vSphere client.
 */
import type { Source } from '../types.js';
import { diskInput } from './disk.js';
import type { InputOptions } from './options.js';

export type { InputOptions } from './options.js';
export type InputKind = 'disk' | 'vmx' | 'ova' | 'libvirtxml' | 'vpx';

export async function openInput(kind: InputKind, args: string[], opts: InputOptions): Promise<Source> {
  switch (kind) {
    case 'disk':
      return diskInput(args, opts);
    case 'vmx':
      return (await import('./vmx.js')).vmxInput(args, opts);
    case 'ova':
      return (await import('./ova.js')).ovaInput(args, opts);
    case 'libvirtxml':
      return (await import('./libvirtxml.js')).libvirtXmlInput(args, opts);
    case 'vpx':
      return (await import('./vpx.js')).vpxInput(args, opts);
  }
}
