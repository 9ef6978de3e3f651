/** "epoch:version-release", as dpkg and rpm write package versions. */
export function splitEvr(evr: string): { epoch: number; version: string; release: string } {
  const colon = evr.indexOf(':');
  const epoch = colon > 0 && /^\d+$/.test(evr.slice(0, colon)) ? Number(evr.slice(0, colon)) : 0;
  const vr = colon > 0 ? evr.slice(colon + 1) : evr;
  const dash = vr.lastIndexOf('-');
  return dash > 0 ? { epoch, version: vr.slice(0, dash), release: vr.slice(dash + 1) } : { epoch, version: vr, release: '' };
}
