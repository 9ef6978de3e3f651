/** A damaged or unreadable initramfs: names the file, the layer, the structure and the offset. */
export class InitramfsError extends Error {
  constructor(where: string, structure: string, offset: number, message: string) {
    super(`${where}: ${structure} at offset ${offset}: ${message}`);
    this.name = 'InitramfsError';
  }
}
