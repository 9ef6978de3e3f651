/** A guest's architecture from the header of one of its executables (ELF or PE), as libguestfs names it. */

const ELF_MACHINES: Record<number, string> = {
  3: 'i386', 8: 'mips', 20: 'ppc', 21: 'ppc64', 22: 's390x', 40: 'arm', 62: 'x86_64', 183: 'aarch64', 243: 'riscv64', 258: 'loongarch64',
};
const PE_MACHINES: Record<number, string> = { 0x14c: 'i386', 0x8664: 'x86_64', 0xaa64: 'aarch64', 0x1c4: 'arm', 0x200: 'ia64' };

/** The ELF file's machine, or undefined when the bytes are not an ELF header. */
export function elfArch(head: Buffer): string | undefined {
  if (head.length < 20 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const little = head[5] === 1;
  const machine = little ? head.readUInt16LE(18) : head.readUInt16BE(18);
  const arch = ELF_MACHINES[machine];
  // Only ppc64 is named by its byte order; 32-bit s390 and mips64 are rare enough to leave.
  if (arch === 'ppc64' && little) return 'ppc64le';
  return arch;
}

/** The PE file's machine ("MZ", then "PE\0\0" at the offset in 0x3C), or undefined. */
export function peArch(head: Buffer): string | undefined {
  if (head.length < 0x40 || head.toString('latin1', 0, 2) !== 'MZ') return undefined;
  const pe = head.readUInt32LE(0x3c);
  if (pe + 6 > head.length || head.toString('latin1', pe, pe + 4) !== 'PE\0\0') return undefined;
  return PE_MACHINES[head.readUInt16LE(pe + 4)];
}
