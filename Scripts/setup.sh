#!/usr/bin/env bash
# Installs everything ThermoColor needs to build and test, and nothing twice:
# Debian packages (FFmpeg 5.1, libv4l2, Python for the model scripts), the
# pinned OpenVINO wheel unpacked into .deps/openvino, CLIP's BPE merges
# file (gzipped and plain) and a Python venv in .deps/py for the model
# scripts. Safe to run again; it only does what is missing.
set -euo pipefail

OPENVINO_VERSION="2026.4.1"
CLIP_WHEEL="clip-anytorch==2.6.0"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$root/.deps"
mkdir -p "$deps"

say() { printf 'setup: %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------
debian_packages=(
  pkg-config ffmpeg
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libavdevice-dev
  libv4l-dev
  python3 python3-pip python3-venv
)
missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- OpenVINO C API from the pinned wheel -----------------------------------
# The wheel carries the C headers and the runtime libraries; its Python part
# is not used. The same wheel exists for aarch64 with the ARM CPU plugin.
machine="$(uname -m)"
case "$machine" in
  x86_64|aarch64) ;;
  *) say "no OpenVINO wheel for $machine"; exit 1 ;;
esac
ov="$deps/openvino"
stamp="$ov/.version"
if [ "$(cat "$stamp" 2>/dev/null)" != "$OPENVINO_VERSION-$machine" ]; then
  say "fetching OpenVINO $OPENVINO_VERSION for $machine"
  wheels="$deps/wheels"
  mkdir -p "$wheels"
  python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --platform "manylinux_2_28_$machine" --platform "manylinux_2_17_$machine" \
    --python-version 3.11 --implementation cp \
    -d "$wheels" "openvino==$OPENVINO_VERSION"
  wheel="$(ls "$wheels"/openvino-"$OPENVINO_VERSION"-*"$machine".whl | head -n1)"
  rm -rf "$ov" "$deps/unpack"
  python3 - "$wheel" "$deps/unpack" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    for name in wheel.namelist():
        if name.startswith(("openvino/include/", "openvino/libs/")):
            wheel.extract(name, sys.argv[2])
PY
  mkdir -p "$ov"
  mv "$deps/unpack/openvino/include" "$ov/include"
  mv "$deps/unpack/openvino/libs" "$ov/lib"
  rm -rf "$deps/unpack"
  # The wheel ships only versioned sonames; the linker wants plain names.
  for lib in "$ov"/lib/libopenvino*.so.*; do
    plain="${lib%%.so.*}.so"
    [ -e "$plain" ] || ln -s "$(basename "$lib")" "$plain"
  done
  echo "$OPENVINO_VERSION-$machine" > "$stamp"
fi

# --- CLIP's BPE merges file -------------------------------------------------
clip="$deps/clip"
if [ ! -s "$clip/bpe_simple_vocab_16e6.txt.gz" ]; then
  say "fetching CLIP's BPE merges file ($CLIP_WHEEL)"
  mkdir -p "$clip"
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$deps/wheels" "$CLIP_WHEEL"
  python3 - "$deps/wheels" "$clip" <<'PY'
import glob, sys, zipfile
wheel = sorted(glob.glob(sys.argv[1] + "/clip_anytorch-*.whl"))[-1]
with zipfile.ZipFile(wheel) as archive:
    name = next(n for n in archive.namelist() if n.endswith("bpe_simple_vocab_16e6.txt.gz"))
    with open(sys.argv[2] + "/bpe_simple_vocab_16e6.txt.gz", "wb") as out:
        out.write(archive.read(name))
PY
fi
# The tokenizer reads the merges file plain or gzipped; tests and tools use
# the plain copy, which needs no decompression at start-up.
if [ ! -s "$clip/bpe_simple_vocab_16e6.txt" ]; then
  say "decompressing CLIP's BPE merges file"
  python3 - "$clip/bpe_simple_vocab_16e6.txt.gz" "$clip/bpe_simple_vocab_16e6.txt" <<'PY'
import gzip, os, sys
with gzip.open(sys.argv[1]) as source, open(sys.argv[2] + ".tmp", "wb") as out:
    out.write(source.read())
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
fi

# --- Python for the model scripts -------------------------------------------
# Token goldens, the tiny test CLIP and table generation need ftfy and regex
# (CLIP's reference tokenizer) and numpy and onnx; no torch. Exporting real
# CLIP weights (Scripts/export-clip.py) needs torch too: see docs/CLIP.md.
PY_REQUIREMENTS=("ftfy==6.3.1" "regex" "numpy" "onnx")
py="$deps/py"
if [ ! -x "$py/bin/python" ] || ! "$py/bin/python" -c "import ftfy, regex, numpy, onnx; assert ftfy.__version__ == '6.3.1'" 2>/dev/null; then
  say "creating the Python environment in .deps/py"
  python3 -m venv "$py"
  "$py/bin/pip" install --quiet --disable-pip-version-check "${PY_REQUIREMENTS[@]}"
fi
say "ready"
