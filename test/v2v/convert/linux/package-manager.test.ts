import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OsInfo } from '../../../../inspect/os-info.js';
import { installCommand, removeCommand, safePackageName } from '../../../../v2v/convert/linux/package-manager.js';
import { vmwarePackages } from '../../../../v2v/convert/linux/vmware-tools.js';

const os = (packageFormat: string, packageManagement: string) => ({ packageFormat, packageManagement }) as OsInfo;

test('package commands per package manager, and the low-level tool when only the format is known', () => {
  assert.equal(removeCommand(os('rpm', 'dnf'), ['open-vm-tools']), 'dnf -y remove open-vm-tools');
  assert.equal(removeCommand(os('rpm', 'zypper'), ['open-vm-tools']), 'zypper -n remove open-vm-tools');
  assert.equal(removeCommand(os('rpm', ''), ['VMwareTools']), 'rpm -e VMwareTools');
  assert.equal(removeCommand(os('deb', ''), ['open-vm-tools']), 'dpkg --purge open-vm-tools');
  assert.equal(installCommand(os('rpm', 'yum'), ['qemu-guest-agent']), 'yum -y install qemu-guest-agent');
  assert.equal(installCommand(os('rpm', ''), ['qemu-guest-agent']), undefined, 'rpm alone cannot fetch a package');
  assert.equal(removeCommand(os('pacman', 'pacman'), ['open-vm-tools']), undefined);
});

test('package names from the image never carry shell syntax into a first-boot script', () => {
  for (const bad of ['open-vm-tools; reboot', '$(reboot)', '`id`', 'a b', '-rf', 'x\nreboot', 'x|y', '', 'a'.repeat(201)]) {
    assert.equal(safePackageName(bad), false, JSON.stringify(bad));
  }
  for (const good of ['open-vm-tools', 'libstdc++6', 'python3.11', 'kmod-vmware-tools_1', 'g++~x']) assert.equal(safePackageName(good), true, good);
  assert.equal(removeCommand(os('deb', 'apt'), ['open-vm-tools', 'open-vm-tools;reboot']), 'DEBIAN_FRONTEND=noninteractive apt-get -y purge open-vm-tools');
  assert.equal(removeCommand(os('deb', 'apt'), ['$(reboot)']), undefined);
});

test('VMware Tools packages are recognised by name, and nothing else is', () => {
  const apps = ['open-vm-tools', 'open-vm-tools-desktop', 'vmware-tools-core', 'VMwareTools', 'kmod-open-vm-tools-el7', 'vmware-guestd',
    'openssh-server', 'vmware-horizon-client', 'open-vm', 'xopen-vm-tools'].map((name) => ({ name }));
  assert.deepEqual(vmwarePackages(apps), ['VMwareTools', 'kmod-open-vm-tools-el7', 'open-vm-tools', 'open-vm-tools-desktop', 'vmware-guestd', 'vmware-tools-core']);
});
