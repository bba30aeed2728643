#!/usr/bin/env bash
# Boots the vivid VM and runs a script inside it:
#
#   Scripts/vm/run.sh RESULTS_DIR [TIMEOUT_SECONDS]
#
# RESULTS_DIR must hold run.sh, which the guest runs as root with the host's
# / as its root (read-only; /tmp is the guest's own) and RESULTS_DIR as
# /tmp/results. Afterwards RESULTS_DIR holds output.txt (what run.sh
# printed), status (its exit status) and console.log (the guest's kernel
# console). Exits with run.sh's status, 124 when the guest ran out of time,
# 125 when it did not report at all.
#
# KVM here is not usable for stock kernels, so QEMU emulates (TCG); vivid
# keeps 25 fps at 640x480 that way.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
results="$(cd "$1" && pwd)"
limit="${2:-240}"
vm="$root/.deps/vm"
[ -s "$vm/vmlinuz" ] && [ -s "$vm/initrd.img" ] || { echo "vm: no guest in $vm (run Scripts/vm/prepare.sh)" >&2; exit 125; }
# The uncompressed kernel boots seconds faster under emulation.
kernel="$vm/vmlinux"
[ -s "$kernel" ] || kernel="$vm/vmlinuz"
[ -f "$results/run.sh" ] || { echo "vm: $results/run.sh is missing" >&2; exit 125; }
rm -f "$results/status" "$results/output.txt" "$results/console.log"
set +e
timeout --kill-after=5 "$limit" qemu-system-x86_64 \
  -nodefaults -no-user-config -display none -no-reboot -nic none \
  -accel tcg,thread=multi -cpu max -smp 2 -m 1024 \
  -serial "file:$results/console.log" \
  -kernel "$kernel" -initrd "$vm/initrd.img" \
  -append "console=ttyS0 quiet panic=-1" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs "local,path=$results,mount_tag=results,security_model=none"
qemu_status=$?
set -e
if [ "$qemu_status" -eq 124 ] || [ "$qemu_status" -eq 137 ]; then
  echo "vm: the guest did not finish within $limit s" >&2
  exit 124
fi
[ -s "$results/status" ] || { echo "vm: the guest reported no status (qemu exited with $qemu_status); see $results/console.log" >&2; exit 125; }
exit "$(cat "$results/status")"
