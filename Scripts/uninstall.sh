#!/usr/bin/env bash
# Removes what Scripts/install.sh installed: the services (stopped and
# disabled first), the binary, its libraries, documentation and model bundles.
# Recordings (/var/lib/thermocolor) and a configuration that differs from the
# example stay, unless --purge: then they go too, and so does the user.
#
# Usage: Scripts/uninstall.sh [--prefix DIR] [--root DESTDIR] [--purge]
set -euo pipefail

root_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix=/usr/local
destdir=""
purge=false

# The comment block at the top of this file, without its '# '.
usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
    --root) destdir="${2:?--root needs a folder}"; shift 2 ;;
    --purge) purge=true; shift ;;
    -h|--help) usage 0 ;;
    *) echo "uninstall.sh: unknown option '$1'" >&2; usage 1 >&2 ;;
  esac
done
destdir="${destdir%/}"
say() { printf 'uninstall: %s\n' "$*" >&2; }

if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then
  # Every instance of the template, and the single service.
  mapfile -t units < <(systemctl list-units --all --plain --no-legend 'thermocolor*.service' | awk '{print $1}')
  for unit in "${units[@]}" thermocolor.service; do
    systemctl disable --now "$unit" >/dev/null 2>&1 || true
  done
  find /etc/systemd/system -name 'thermocolor@*.service' -type l -delete 2>/dev/null || true
fi

rm -f "$destdir$prefix/bin/thermocolor"
rm -rf "$destdir$prefix/lib/thermocolor" "$destdir$prefix/share/doc/thermocolor" "$destdir$prefix/share/thermocolor"
rm -f "$destdir/etc/systemd/system/thermocolor.service" "$destdir/etc/systemd/system/thermocolor@.service"
say "removed the binary, its libraries, documentation and units"

config_dir="$destdir/etc/thermocolor"
state_dir="$destdir/var/lib/thermocolor"
if $purge; then
  rm -rf "$config_dir" "$state_dir"
  say "purged $config_dir and $state_dir"
  if [ -z "$destdir" ] && getent passwd thermocolor >/dev/null; then
    userdel thermocolor
    say "removed the user thermocolor"
  fi
else
  # An untouched example goes; an edited configuration is the user's.
  if [ -f "$config_dir/thermocolor.toml" ] && cmp -s "$config_dir/thermocolor.toml" "$root_dir/Samples/thermocolor.toml"; then
    rm -f "$config_dir/thermocolor.toml"
  fi
  rmdir "$config_dir" 2>/dev/null || true
  [ -d "$config_dir" ] && say "kept $config_dir (edited configuration; --purge removes it)"
  [ -d "$state_dir" ] && say "kept $state_dir (recordings; --purge removes them)"
fi
if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
exit 0
