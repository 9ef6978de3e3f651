#!/usr/bin/env bash
# Builds demo/windows.qcow2, the Windows-like demo disk: an MBR disk (signature 0x0DDBA11) with
# two NTFS partitions, C: holding Windows/System32/config/{SYSTEM,SOFTWARE} hives made by
# hivexregedit from ../shared/testdata/empty-hive (MountedDevices maps C: and D: by disk
# signature and partition offset, as Windows records them), and D: holding data.
# Rerun after changing it; the result is committed.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'fusermount -u "$work/mnt" 2>/dev/null || true; rm -rf "$work"' EXIT
empty_hive=${EMPTY_HIVE:-/work/shared/testdata/empty-hive}
SIG=0d0ba110
C_START=2048 C_SECTORS=$((24 * 2048))
D_START=$((C_START + C_SECTORS)) D_SECTORS=$((12 * 2048))

truncate -s $(( (D_START + D_SECTORS) * 512 + 1048576 )) "$work/disk.img"
sfdisk -q "$work/disk.img" <<SF
label: dos
label-id: 0x$SIG
start=$C_START, size=$C_SECTORS, type=7, bootable
start=$D_START, size=$D_SECTORS, type=7
SF

# Registry values are little-endian: the 12-byte MountedDevices value is the disk signature
# then the partition's byte offset.
le() { printf '%0*x' "$2" "$1" | fold -w2 | tac | paste -sd, -; }
c_val="$(le $((0x$SIG)) 8),$(le $((C_START * 512)) 16)"
d_val="$(le $((0x$SIG)) 8),$(le $((D_START * 512)) 16)"

cp "$empty_hive" "$work/SYSTEM"; chmod u+w "$work/SYSTEM"
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$work/SYSTEM" <<REG
[HKEY_LOCAL_MACHINE\\SYSTEM\\MountedDevices]
"\\\\DosDevices\\\\C:"=hex:$c_val
"\\\\DosDevices\\\\D:"=hex:$d_val

[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]
"Current"=dword:00000001
"Default"=dword:00000001

[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001]

[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control]

[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\ComputerName]

[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\ComputerName\\ComputerName]
"ComputerName"="DEMO-PC"
REG

cp "$empty_hive" "$work/SOFTWARE"; chmod u+w "$work/SOFTWARE"
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' "$work/SOFTWARE" <<REG
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft]

[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT]

[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion]
"ProductName"="Windows 10 Pro"
"EditionID"="Professional"
"InstallationType"="Client"
"CurrentVersion"="6.3"
"CurrentMajorVersionNumber"=dword:0000000a
"CurrentMinorVersionNumber"=dword:00000000
"CurrentBuildNumber"="19045"
"SystemRoot"="C:\\\\Windows"
REG

mkdir "$work/mnt"
ntfs_part() { # name start sectors label populate-function
  truncate -s $(( $3 * 512 )) "$work/$1.img"
  mkntfs -q -F -Q -p "$2" -H 255 -S 63 -L "$4" "$work/$1.img" 2>/dev/null
  ntfs-3g "$work/$1.img" "$work/mnt"
  "$5" "$work/mnt"
  fusermount -u "$work/mnt"
  dd if="$work/$1.img" of="$work/disk.img" bs=512 seek="$2" conv=notrunc,sparse status=none
}
fill_c() {
  mkdir -p "$1/Windows/System32/config" "$1/Users/Public/Desktop" "$1/Program Files"
  cp "$work/SYSTEM" "$work/SOFTWARE" "$1/Windows/System32/config/"
  printf 'Hello from drive C: of the demo disk.\r\n' > "$1/Users/Public/Desktop/readme.txt"
}
fill_d() {
  mkdir -p "$1/Data/Reports"
  printf 'Quarterly numbers, kept on drive D:.\r\n' > "$1/Data/Reports/q1.txt"
}
ntfs_part c "$C_START" "$C_SECTORS" System fill_c
ntfs_part d "$D_START" "$D_SECTORS" Data fill_d

qemu-img convert -c -O qcow2 "$work/disk.img" windows.qcow2
ls -l windows.qcow2
