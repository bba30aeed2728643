#!/usr/bin/env bash
# Installs ThermoColor as a systemd service:
#   PREFIX/bin/thermocolor               the binary (default PREFIX: /usr/local)
#   PREFIX/lib/thermocolor/              OpenVINO's libraries and plugins, and the
#                                        Swift runtime unless linked statically; the
#                                        binary finds them through its rpath
#                                        $ORIGIN/../lib/thermocolor
#   PREFIX/share/doc/thermocolor/        SERVICE.md and the example configuration
#   PREFIX/share/thermocolor/models/     model and text-encoder bundles: the checkout's
#                                        models/ and those Scripts/setup.sh made in
#                                        .deps/models (minilm), found by name
#                                        (--model NAME, --encoder NAME)
#   PREFIX/share/thermocolor/            CLIP's BPE merges file, when set-up fetched it
#   /etc/systemd/system/thermocolor.service, thermocolor@.service
#   /etc/thermocolor/thermocolor.toml    the example, only if there is none yet
#   /var/lib/thermocolor/recordings      owned by the service's user
# and creates the system user `thermocolor` (groups video, and render where it
# exists). Safe to run again: an existing configuration is never replaced.
#
# Usage: Scripts/install.sh [--prefix DIR] [--root DESTDIR] [--binary FILE]
#   --root DESTDIR  install under DESTDIR (packaging, tests): no user is
#                   created, nothing is chowned, systemd is not told.
#   --binary FILE   install this binary instead of building a release one.
set -euo pipefail

root_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix=/usr/local
destdir=""
binary=""

# The comment block at the top of this file, without its '# '.
usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
    --root) destdir="${2:?--root needs a folder}"; shift 2 ;;
    --binary) binary="${2:?--binary needs a file}"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "install.sh: unknown option '$1'" >&2; usage 1 >&2 ;;
  esac
done
case "$prefix" in /*) ;; *) echo "install.sh: --prefix must be an absolute path" >&2; exit 1 ;; esac
destdir="${destdir%/}"
say() { printf 'install: %s\n' "$*" >&2; }

if [ -z "$binary" ]; then
  # sudo resets PATH, so a toolchain under /opt or ~ is not found as root.
  if ! command -v swift >/dev/null; then
    echo "install.sh: no swift on PATH (sudo resets it); build first with 'swift build -c release --product thermocolor'" \
      "and pass --binary .build/release/thermocolor" >&2
    exit 1
  fi
  say "building the release binary"
  (cd "$root_dir" && swift build -c release --product thermocolor >&2)
  binary="$root_dir/.build/release/thermocolor"
fi
[ -x "$binary" ] || { echo "install.sh: no executable at $binary" >&2; exit 1; }

bin_dir="$destdir$prefix/bin"
lib_dir="$destdir$prefix/lib/thermocolor"
doc_dir="$destdir$prefix/share/doc/thermocolor"
unit_dir="$destdir/etc/systemd/system"
config_dir="$destdir/etc/thermocolor"
state_dir="$destdir/var/lib/thermocolor"

share_dir="$destdir$prefix/share/thermocolor"
install -d -m 0755 "$bin_dir" "$lib_dir" "$doc_dir" "$unit_dir" "$config_dir"
install -m 0755 "$binary" "$bin_dir/thermocolor"
say "binary → $bin_dir/thermocolor"

# OpenVINO: the C library the binary links, and the plugins and frontends it
# loads at run time from the same folder (so ldd cannot list them).
openvino_lib="$root_dir/.deps/openvino/lib"
if [ -d "$openvino_lib" ]; then
  find "$openvino_lib" -maxdepth 1 \( -name '*.so' -o -name '*.so.*' -o -name '*.json' -o -name '*.xml' \) \
    -exec cp -P {} "$lib_dir/" \;
  say "OpenVINO libraries → $lib_dir"
else
  say "warning: no $openvino_lib (run Scripts/setup.sh); the binary will not start without OpenVINO"
fi
# Bundles the binary finds by name in ../share/thermocolor/models (see
# docs/MODELS.md, "Finding bundles by name"); a bundle is replaced whole.
installed_models=()
for source in "$root_dir/models" "$root_dir/.deps/models"; do
  [ -d "$source" ] || continue
  for bundle in "$source"/*/; do
    [ -d "$bundle" ] || continue
    name="$(basename "$bundle")"
    install -d -m 0755 "$share_dir/models"
    rm -rf "$share_dir/models/$name"
    cp -R "$bundle" "$share_dir/models/$name"
    chmod -R u=rwX,go=rX "$share_dir/models/$name"
    installed_models+=("$name")
  done
done
if ((${#installed_models[@]})); then
  say "model bundles (${installed_models[*]}) → $share_dir/models"
else
  say "warning: no model bundles to install (run Scripts/setup.sh for the minilm text encoder)"
fi
merges="$root_dir/.deps/clip/bpe_simple_vocab_16e6.txt"
if [ -f "$merges" ]; then
  install -d -m 0755 "$share_dir"
  install -m 0644 "$merges" "$share_dir/bpe_simple_vocab_16e6.txt"
fi

# Libraries the binary resolves from the Swift toolchain (when not linked
# with --static-swift-stdlib) go along; system ones (FFmpeg, libv4l2) come
# from Debian packages on the target.
missing=()
while read -r name arrow path _; do
  [ "$arrow" = "=>" ] || continue
  case "$path" in
    not) missing+=("$name") ;;
    */usr/lib/swift/*|"$root_dir"/*) cp -L "$path" "$lib_dir/$name" ;;
  esac
done < <(ldd "$binary" 2>/dev/null || true)
if ((${#missing[@]})); then
  say "warning: libraries not found on this machine: ${missing[*]}"
  say "  (on Debian 12: apt-get install libavformat59 libavcodec59 libswscale6 libv4l-0)"
fi

# Units, pointed at this prefix.
for unit in thermocolor.service thermocolor@.service; do
  sed -e "s|/usr/local/bin/thermocolor|$prefix/bin/thermocolor|g" \
      -e "s|/usr/local/share/doc/thermocolor|$prefix/share/doc/thermocolor|g" \
      "$root_dir/systemd/$unit" > "$unit_dir/$unit"
  chmod 0644 "$unit_dir/$unit"
done
say "units → $unit_dir"

install -m 0644 "$root_dir/docs/SERVICE.md" "$doc_dir/SERVICE.md"
install -m 0644 "$root_dir/Samples/thermocolor.toml" "$doc_dir/thermocolor.toml.example"
if [ -e "$config_dir/thermocolor.toml" ]; then
  say "keeping the existing $config_dir/thermocolor.toml"
else
  install -m 0640 "$root_dir/Samples/thermocolor.toml" "$config_dir/thermocolor.toml"
  say "example configuration → $config_dir/thermocolor.toml"
fi

install -d -m 0750 "$state_dir" "$state_dir/recordings"

if [ -z "$destdir" ]; then
  if ! getent passwd thermocolor >/dev/null; then
    useradd --system --user-group --groups video --home-dir /var/lib/thermocolor --no-create-home \
      --shell /usr/sbin/nologin --comment "ThermoColor service" thermocolor
    say "created the system user thermocolor (group video)"
  fi
  # VAAPI and OpenVINO's GPU plugin open /dev/dri/renderD*, group render on Debian.
  if getent group render >/dev/null; then usermod --append --groups render thermocolor; fi
  chown -R thermocolor:thermocolor "$state_dir"
  chgrp thermocolor "$config_dir" "$config_dir/thermocolor.toml"
  chmod 0750 "$config_dir"
  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
  cat >&2 <<EOF
install: done. Next:
  edit /etc/thermocolor/thermocolor.toml, then: thermocolor check-config /etc/thermocolor/thermocolor.toml
  systemctl enable --now thermocolor        (or thermocolor@cam0 with /etc/thermocolor/cam0.toml)
  journalctl -u thermocolor -f; curl -s 127.0.0.1:9464/metrics
EOF
else
  say "installed under $destdir (no user created, systemd not told)"
fi
