#!/usr/bin/env bash
# Builds demo/demo.qcow2, the built-in demo disk `npm start` opens, with the real tools:
# a GPT disk holding an EFI system partition (FAT32), a Linux root (ext4) and a Windows data
# partition (NTFS). Rerun after changing it; the result is committed (about 100 KiB).
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000 MTOOLS_SKIP_CHECK=1

# Linux root tree for mkfs.ext4 -d.
root=$work/root
mkdir -p "$root"/{etc,home/alice,boot/efi,var/log}
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' > "$root/etc/os-release"
echo 12.8 > "$root/etc/debian_version"
echo demo-guest > "$root/etc/hostname"
printf 'UUID=0b8a1c2d-0000-4000-8000-000000000001 / ext4 defaults 0 1\n/dev/sda1 /boot/efi vfat umask=0077 0 1\n' > "$root/etc/fstab"
echo 'Hello from inside the demo disk.' > "$root/home/alice/hello.txt"
ln -s ../home/alice/hello.txt "$root/etc/motd"
seq 1 2000 > "$root/var/log/numbers.log"

truncate -s 40M "$work/efi.img"
mkfs.vfat -F 32 -s 1 -n EFI -i 1234ABCD "$work/efi.img" >/dev/null
echo 'fs0:\EFI\debian\grubx64.efi' > "$work/startup.nsh"
mmd -i "$work/efi.img" ::/EFI ::/EFI/debian
mcopy -i "$work/efi.img" "$work/startup.nsh" ::/startup.nsh

truncate -s 32M "$work/root.img"
mkfs.ext4 -q -L root -U 0b8a1c2d-0000-4000-8000-000000000001 -E root_owner=0:0 -d "$root" "$work/root.img"

truncate -s 96M "$work/disk.img"
sgdisk -o \
  -n 1:2048:+40M -t 1:EF00 -c 1:EFI \
  -n 2:0:+32M -t 2:8300 -c 2:root \
  -n 3:0:0 -t 3:0700 -c 3:data "$work/disk.img" >/dev/null
start() { sgdisk -i "$1" "$work/disk.img" | awk '/First sector/ {print $3}'; }
sectors() { sgdisk -i "$1" "$work/disk.img" | awk '/Partition size/ {print $3}'; }

truncate -s $(( $(sectors 3) * 512 )) "$work/data.img"
mkntfs -q -F -Q -p "$(start 3)" -H 255 -S 63 -L DATA "$work/data.img" 2>/dev/null
mkdir "$work/mnt"
ntfs-3g "$work/data.img" "$work/mnt"
mkdir -p "$work/mnt/Users/Public/Documents"
echo 'A document on the Windows data partition.' > "$work/mnt/Users/Public/Documents/readme.txt"
fusermount -u "$work/mnt"

dd if="$work/efi.img" of="$work/disk.img" bs=512 seek="$(start 1)" conv=notrunc,sparse status=none
dd if="$work/root.img" of="$work/disk.img" bs=512 seek="$(start 2)" conv=notrunc,sparse status=none
dd if="$work/data.img" of="$work/disk.img" bs=512 seek="$(start 3)" conv=notrunc,sparse status=none
qemu-img convert -c -O qcow2 "$work/disk.img" demo.qcow2
ls -l demo.qcow2
