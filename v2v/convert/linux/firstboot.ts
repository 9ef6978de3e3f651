/**
 * Work left for the guest's first boot on KVM, as virt-v2v's firstboot does: a systemd
 * oneshot unit runs each script of /usr/lib/guestkit/firstboot.d once, in name order,
 * logging to /var/log/guestkit-firstboot.log, then disables itself. Scripts that fail are
 * logged and not retried, so a guest never loops on one.
 */
import type { GuestFiles } from '../../guest-files.js';

export const FIRSTBOOT_DIR = '/usr/lib/guestkit';
export const FIRSTBOOT_SCRIPTS = `${FIRSTBOOT_DIR}/firstboot.d`;
export const FIRSTBOOT_UNIT = '/etc/systemd/system/guestkit-firstboot.service';
const WANTS = '/etc/systemd/system/multi-user.target.wants';

const RUNNER = `#!/bin/sh
# guestkit virt-v2v: run each first-boot script once, in order, then disable this unit.
d=${FIRSTBOOT_SCRIPTS}
mkdir -p "$d/done"
for f in "$d"/*.sh; do
  [ -f "$f" ] || continue
  echo "$(date -u +%FT%TZ) running $f"
  sh "$f"; rc=$?
  echo "$(date -u +%FT%TZ) $f exited with $rc"
  mv "$f" "$d/done/"
done
systemctl disable guestkit-firstboot.service
`;

const UNIT = `[Unit]
Description=guestkit virt-v2v first-boot scripts
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'exec /bin/sh ${FIRSTBOOT_DIR}/firstboot.sh >>/var/log/guestkit-firstboot.log 2>&1'
RemainAfterExit=yes
TimeoutSec=0

[Install]
WantedBy=multi-user.target
`;

/** Whether the guest boots with systemd, which our first-boot unit needs. */
export async function hasSystemd(files: GuestFiles): Promise<boolean> {
  for (const p of ['/usr/lib/systemd/systemd', '/lib/systemd/systemd']) if (await files.exists(p)) return true;
  return false;
}

/**
 * Install `script` as first-boot step `name` ("0001-remove-vmware-tools"): the runner and the
 * enabled unit come with the first one.
 */
export async function addFirstbootScript(files: GuestFiles, name: string, script: string, report: (change: string) => void): Promise<void> {
  if (!(await files.exists(FIRSTBOOT_UNIT))) {
    await files.mkdirp(FIRSTBOOT_SCRIPTS);
    await files.write(`${FIRSTBOOT_DIR}/firstboot.sh`, RUNNER, { mode: 0o755 });
    await files.write(FIRSTBOOT_UNIT, UNIT);
    await files.mkdirp(WANTS);
    await files.symlink(FIRSTBOOT_UNIT, `${WANTS}/guestkit-firstboot.service`);
    report(`${FIRSTBOOT_UNIT}: first-boot unit installed and enabled (runs ${FIRSTBOOT_SCRIPTS}/*.sh once)`);
  }
  const path = `${FIRSTBOOT_SCRIPTS}/${name}.sh`;
  await files.write(path, `#!/bin/sh\n${script}`, { mode: 0o755 });
  report(`${path}: first-boot script added`);
}
