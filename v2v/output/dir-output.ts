/**
 * The outputs that write into an -os directory (`-o local`, `-o qemu`): the disks as
 * DIR/NAME-sda… (raw or qcow2, sparse or preallocated), then one metadata file describing the
 * guest (libvirt XML, a qemu script).
 */
import { constants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { copyDisks } from './disks.js';
import { hardwareOf, type Hardware } from './hardware.js';
import { libvirtXml } from './libvirt-xml.js';
import { diskSuffix, type Output, type OutputJob, type OutputOptions } from './output.js';
import { qemuScript } from './qemu-script.js';
import { createTarget } from './target.js';

interface Metadata {
  /** Appended to the guest's name: ".xml". */
  suffix: string;
  describe: (hw: Hardware) => string;
  mode: number;
}

class DirOutput implements Output {
  readonly description: string;

  constructor(
    kind: string,
    private readonly dir: string,
    private readonly opts: OutputOptions,
    private readonly meta: Metadata,
  ) {
    this.description = `-o ${kind} -os ${dir}`;
  }

  /** The directory must exist and be writable, and the name usable in file names. */
  async check(name: string): Promise<void> {
    if (name === '' || name.includes('/') || name === '.' || name === '..' || name.includes('\0')) {
      throw new Error(`"${name}" cannot be used as a guest name in file names`);
    }
    const st = await stat(this.dir).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`${this.dir}: the output directory does not exist (${e.code})`);
    });
    if (!st.isDirectory()) throw new Error(`${this.dir}: the output location is not a directory`);
    await access(this.dir, constants.W_OK).catch(() => {
      throw new Error(`${this.dir}: the output directory is not writable`);
    });
  }

  async write(job: OutputJob): Promise<void> {
    // Absolute: the metadata names them.
    const files = job.disks.map((_, i) => join(resolve(this.dir), `${job.name}-${diskSuffix(i)}`));
    const { format, allocation } = this.opts;
    await copyDisks(job.disks, (d, i) => createTarget(files[i]!, format, d.size), { allocate: allocation === 'preallocated' }, job.copy);
    job.copy.message('Creating output metadata');
    const hw = hardwareOf(job, files, format, this.opts.networks);
    await writeFile(join(this.dir, `${job.name}${this.meta.suffix}`), this.meta.describe(hw), { mode: this.meta.mode });
  }
}

/** `-o local -os DIR`: the disks and DIR/NAME.xml, libvirt's domain XML. */
export function localOutput(dir: string, opts: OutputOptions): Output {
  return new DirOutput('local', dir, opts, { suffix: '.xml', describe: libvirtXml, mode: 0o644 });
}

/** `-o qemu -os DIR`: the disks and DIR/NAME.sh, a script that boots them with qemu. */
export function qemuOutput(dir: string, opts: OutputOptions): Output {
  return new DirOutput('qemu', dir, opts, { suffix: '.sh', describe: qemuScript, mode: 0o755 });
}
