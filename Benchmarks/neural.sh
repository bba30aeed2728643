#!/usr/bin/env bash
# Frames per second of the neural colouriser engine (NeuralColorizer through
# OpenVINO's C API) at batch 1, 4 and 8, against a plain Python loop over
# OpenVINO's Python API doing the same work on the same bundle, measured in
# the same run. Prints the numbers and the ratios the engine is judged by:
# batching over batch 1, and the engine over the Python loop.
#
#   Benchmarks/neural.sh [BUNDLE]       default: .deps/bench-model (made if missing)
#
# Environment: FRAMES (64), SIZE (640x512 video), PRECISION (device default),
# ROUNDS (2: Swift and Python alternate, to share the machine's mood),
# SCRATCH (SwiftPM scratch path, .build).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
frames="${FRAMES:-64}"
size="${SIZE:-640x512}"
rounds="${ROUNDS:-2}"
scratch="${SCRATCH:-$root/.build}"
precision_args=()
[ -n "${PRECISION:-}" ] && precision_args=(--precision "$PRECISION")

bash Scripts/setup.sh --bench
python=.deps/py/bin/python
bundle="${1:-.deps/bench-model}"
if [ "$bundle" = ".deps/bench-model" ] && [ ! -f "$bundle/model.onnx" ]; then
  "$python" Scripts/make-bench-model.py "$bundle"
fi

swift build -c release --product neural-bench --scratch-path "$scratch" 2>&1 | grep -E "error|warning: |Compiling|Build" >&2 || true
bench="$scratch/release/neural-bench"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
  echo "round $round"
  "$bench" "$bundle" --batches 1,4,8 --frames "$frames" --size "$size" "${precision_args[@]}" | tee -a "$log"
  "$python" Benchmarks/neural_baseline.py "$bundle" --batches 1,8 --frames "$frames" --size "$size" \
    "${precision_args[@]}" | tee -a "$log"
done

# Best of the rounds per mode and batch, then the ratios.
awk '
  $1 == "fps" { key = $2 " " $3; if ($4 > best[key]) best[key] = $4 }
  END {
    b1 = best["pipelined 1"]; b4 = best["pipelined 4"]; b8 = best["pipelined 8"]
    py1 = best["python 1"]; py8 = best["python 8"]; sync1 = best["sync 1"]
    ours = b1; if (b4 > ours) ours = b4; if (b8 > ours) ours = b8
    py = py1; if (py8 > py) py = py8
    printf "\nbest of rounds, frames per second\n"
    printf "  swift sync batch 1 (no overlap)  %7.2f\n", sync1
    printf "  swift pipelined batch 1          %7.2f\n", b1
    printf "  swift pipelined batch 4          %7.2f\n", b4
    printf "  swift pipelined batch 8          %7.2f\n", b8
    printf "  python loop batch 1              %7.2f\n", py1
    printf "  python loop batch 8              %7.2f\n", py8
    printf "ratios\n"
    printf "  batch 4 / batch 1 (pipelined)    %6.2fx  (goal >= 1.5)\n", b4 / b1
    printf "  batch 8 / batch 1 (pipelined)    %6.2fx  (goal >= 1.5)\n", b8 / b1
    printf "  pipelined / sync at batch 1      %6.2fx\n", b1 / sync1
    printf "  swift / python at batch 1        %6.2fx\n", b1 / py1
    printf "  swift / python at batch 8        %6.2fx\n", b8 / py8
    printf "  swift best / python best         %6.2fx  (goal >= 1.2)\n", ours / py
  }' "$log"
