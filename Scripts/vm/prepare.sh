#!/usr/bin/env bash
# Prepares the guest for the vivid VM test (see docs/CAMERAS.md, "Testing
# against a real driver"): Debian's kernel package is fetched with
# `apt-get download` and unpacked, not installed; its vivid module and what
# vivid, 9p and virtio need go into a busybox initramfs whose /init is
# Scripts/vm/init. The result lands in the git-ignored .deps/vm:
#
#   .deps/vm/vmlinuz      the kernel as packaged
#   .deps/vm/vmlinux      the same kernel uncompressed, which boots faster
#   .deps/vm/initrd.img   busybox, the modules, /init
#   .deps/vm/ready        the kernel package and version it was made from
#
# Safe to run again: it only rebuilds what is missing or out of date. The
# Debian packages it needs (qemu-system-x86, busybox-static, kmod, cpio,
# zstd, v4l-utils) are installed by Scripts/setup.sh. Exits 0 with one line
# on stderr, without preparing anything, where the VM cannot run (not
# x86_64, not Debian).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
vm="$root/.deps/vm"
say() { printf 'vm: %s\n' "$*" >&2; }

if [ "$(uname -m)" != x86_64 ]; then
  say "the vivid VM test runs on x86_64 hosts only; skipping its set-up"
  exit 0
fi
for tool in apt-get apt-cache dpkg-deb depmod modprobe cpio gzip python3 qemu-system-x86_64; do
  if ! command -v "$tool" >/dev/null; then
    say "$tool is missing (Scripts/setup.sh installs it on Debian); skipping the VM set-up"
    exit 0
  fi
done
busybox=/bin/busybox
if ! "$busybox" --list 2>/dev/null | grep -qx modprobe || ldd "$busybox" >/dev/null 2>&1; then
  say "a static busybox is missing (Debian's busybox-static); skipping the VM set-up"
  exit 0
fi

# Debian's generic kernel for this release (6.1 on bookworm): the real
# package behind the linux-image-amd64 meta-package.
package="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')"
if [ -z "$package" ]; then
  say "apt knows no linux-image-amd64 (not Debian, or no apt-get update yet); skipping the VM set-up"
  exit 0
fi
version="$(apt-cache policy "$package" | awk '/Candidate:/ { print $2 }')"
stamp="$package $version $(cat "$root/Scripts/vm/init" "$root/Scripts/vm/prepare.sh" | sha256sum | cut -c1-16)"
if [ -s "$vm/vmlinuz" ] && [ -s "$vm/initrd.img" ] && [ "$(cat "$vm/ready" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi

say "preparing the guest from $package $version"
mkdir -p "$vm"
work="$(mktemp -d "$vm/work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
# apt drops to its _apt user to download; as root, let it write here.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$work"; fi
(cd "$work" && apt-get download -qq "$package=$version")
deb="$(ls "$work"/*.deb)"

# Unpack the kernel and its modules (not the rest), then let depmod work
# out what depends on what.
mkdir "$work/kernel"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/kernel" --wildcards './boot/vmlinuz-*' './lib/modules/*'
kernel_release="$(ls "$work/kernel/lib/modules")"
depmod -b "$work/kernel" "$kernel_release"

# vivid with the V4L2 core and videobuf2; 9p over virtio for the host's
# files. Whatever the kernel has built in needs no module.
initrd="$work/initrd"
modules="lib/modules/$kernel_release"
mkdir -p "$initrd"/{bin,dev,proc,sys,host,tmp,"$modules"}
cp "$busybox" "$initrd/bin/busybox"
for module in vivid virtio_pci 9pnet_virtio 9p; do
  modprobe -d "$work/kernel" -S "$kernel_release" --show-depends "$module" | while read -r kind path _; do
    [ "$kind" = insmod ] || continue
    relative="${path#"$work/kernel/"}"
    mkdir -p "$initrd/$(dirname "$relative")"
    cp "$path" "$initrd/$relative"
  done
done
cp "$work/kernel/$modules"/modules.{order,builtin,builtin.modinfo} "$initrd/$modules/" 2>/dev/null || true
depmod -b "$initrd" "$kernel_release"
install -m 755 "$root/Scripts/vm/init" "$initrd/init"
(cd "$initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$vm/initrd.img.new"
cp "$work/kernel/boot/vmlinuz-$kernel_release" "$vm/vmlinuz.new"
# Under emulation, unpacking the XZ-compressed kernel takes the guest
# seconds; QEMU boots the uncompressed ELF inside it directly (PVH).
rm -f "$vm/vmlinux"
python3 - "$vm/vmlinuz.new" "$vm/vmlinux.new" <<'PY' || rm -f "$vm/vmlinux.new"
import lzma, sys
image = open(sys.argv[1], "rb").read()
start = image.find(b"\xfd7zXZ\x00")
if start < 0:
    sys.exit(1)
elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(image[start:])
if not elf.startswith(b"\x7fELF"):
    sys.exit(1)
open(sys.argv[2], "wb").write(elf)
PY
mv "$vm/initrd.img.new" "$vm/initrd.img"
mv "$vm/vmlinuz.new" "$vm/vmlinuz"
[ -s "$vm/vmlinux.new" ] && mv "$vm/vmlinux.new" "$vm/vmlinux"
echo "$stamp" > "$vm/ready"
say "guest ready: $kernel_release, $(du -h "$vm/initrd.img" | cut -f1) initramfs"
