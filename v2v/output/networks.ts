/**
 * Where each source NIC is connected on the target, as virt-v2v maps it: `--mac MAC:TYPE:NAME`
 * first, then `--network IN:OUT` / `--bridge IN:OUT` for the source's network of that type
 * and name, then `--network OUT` / `--bridge OUT` for every other one of its type; a NIC no
 * rule names keeps the source's network.
 */
import type { SourceNic } from '../types.js';

export type VnetType = 'network' | 'bridge';

export interface Vnet {
  type: VnetType;
  name: string;
}

export class NetworkMap {
  private readonly macs = new Map<string, Vnet>();
  private readonly named = new Map<string, string>();
  private readonly fallback = new Map<VnetType, string>();

  /** This MAC (any case) goes to `to`. */
  addMac(mac: string, to: Vnet): void {
    const key = mac.toLowerCase();
    if (this.macs.has(key)) throw new Error(`${mac}: mapped twice`);
    this.macs.set(key, to);
  }

  /** Source networks (or bridges) called `from` go to `to`; without `from`, every other one. */
  add(type: VnetType, from: string | undefined, to: string): void {
    if (from === undefined) {
      if (this.fallback.has(type)) throw new Error(`a default ${type} is given twice`);
      this.fallback.set(type, to);
    } else {
      const key = `${type}\0${from}`;
      if (this.named.has(key)) throw new Error(`${type} "${from}" is mapped twice`);
      this.named.set(key, to);
    }
  }

  map(nic: SourceNic): Vnet {
    const byMac = nic.mac !== undefined ? this.macs.get(nic.mac.toLowerCase()) : undefined;
    if (byMac) return byMac;
    const type = nic.vnetType;
    return { type, name: this.named.get(`${type}\0${nic.network}`) ?? this.fallback.get(type) ?? nic.network };
  }
}
