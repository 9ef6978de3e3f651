/** CRC16 (ANSI, reflected 0xA001) for uninit_bg group descriptor checksums (gdt_csum). */
const TABLE = new Uint16Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  return c;
});

export function crc16(seed: number, data: Uint8Array, start = 0, end = data.length): number {
  let crc = seed & 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ data[i]!) & 0xff]!;
  return crc;
}
