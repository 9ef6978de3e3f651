/**
 * Security descriptors of NTFS 3.x live once each in $Secure:$SDS, found by security id
 * through the $SII index; older volumes keep one in a file's own $SECURITY_DESCRIPTOR.
 */
import { corrupt } from '../errors.js';
import { AT } from './attribute.js';
import type { Mft } from './mft.js';
import { IndexTree } from './index.js';
import { AttrStream } from './stream.js';

const SECURE = 9;
const SDS_HEADER = 20;
const MAX_DESCRIPTOR = 1 << 18;

export class SecureStore {
  private constructor(
    private readonly sii: IndexTree,
    private readonly sds: AttrStream,
  ) {}

  /**
   * Undefined when record 9 has no $SDS and $SII (volumes before NTFS 3.0 keep $Quota there).
   * A record that cannot be read is an error, not "no descriptors": its reason goes up.
   */
  static async open(mft: Mft): Promise<SecureStore | undefined> {
    const f = await mft.file(SECURE);
    const sds = f.find(AT.DATA, '$SDS');
    if (!sds || !f.has(AT.INDEX_ROOT, '$SII')) return undefined;
    return new SecureStore(await IndexTree.open(mft.io, f, '$SII'), new AttrStream(mft.io, sds, '$Secure:$SDS'));
  }

  async descriptor(id: number, device: string): Promise<Buffer | undefined> {
    const [e] = await this.sii.find((k) => (k.length < 4 ? 1 : id - k.readUInt32LE(0)));
    if (!e) return undefined;
    const what = `$Secure $SII entry for security id ${id}`;
    const dataOfs = e.raw.readUInt16LE(0);
    const dataLen = e.raw.readUInt16LE(2);
    if (dataLen < 20 || dataOfs + dataLen > e.raw.length) throw corrupt(device, what, `bad data (${dataLen} bytes at ${dataOfs})`);
    const d = e.raw.subarray(dataOfs);
    const ofs = Number(d.readBigUInt64LE(8));
    const len = d.readUInt32LE(16);
    if (len < SDS_HEADER || len > MAX_DESCRIPTOR || ofs + len > this.sds.size) throw corrupt(device, what, `descriptor of ${len} bytes at $SDS offset ${ofs} has a bad length or lies past the end of $SDS`);
    const b = await this.sds.read(ofs, len);
    if (b.readUInt32LE(4) !== id) throw corrupt(device, what, `$SDS at offset ${ofs} holds security id ${b.readUInt32LE(4)}`);
    return b.subarray(SDS_HEADER);
  }
}
