#!/usr/bin/env bash
# Frames per second of the neural colouriser engine (NeuralColorizer through
# OpenVINO's C API) at batch 1, 4 and 8, against a plain Python loop over
# OpenVINO's Python API doing the same work on the same bundle, measured in
# the same run. Prints the numbers and the ratios the engine is judged by:
# batching over batch 1, and the engine over the Python loop. OpenVINO's own
# benchmark_app then runs the same model file at the bundle's working size:
# the inference ceiling, printed beside the engine's network-only rate.
#
#   Benchmarks/neural.sh [BUNDLE]       a folder or a bundle name such as road-colorizer;
#                                       default: .deps/bench-model (made if missing)
#
# Environment: FRAMES (64), SIZE (640x512 video), PRECISION (device default),
# ROUNDS (3: Swift and Python alternate; ratios are per round, then the median),
# SCRATCH (SwiftPM scratch path, .build).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
frames="${FRAMES:-64}"
size="${SIZE:-640x512}"
rounds="${ROUNDS:-3}"
scratch="${SCRATCH:-$root/.build}"
precision_args=()
[ -n "${PRECISION:-}" ] && precision_args=(--precision "$PRECISION")

bash Scripts/setup.sh --bench
python=.deps/py/bin/python
bundle="${1:-.deps/bench-model}"
# A name rather than a folder: the checkout's models/ first, as thermocolor looks.
if [ ! -d "$bundle" ] && [ -d "models/$bundle" ]; then bundle="models/$bundle"; fi
if [ "$bundle" = ".deps/bench-model" ] && [ ! -f "$bundle/model.onnx" ]; then
  "$python" Scripts/make-bench-model.py "$bundle"
fi

swift build -c release --product neural-bench --scratch-path "$scratch" 2>&1 | grep -E "error|warning: |Compiling|Build" >&2 || true
swift build -c release --product thermocolor --scratch-path "$scratch" 2>&1 | grep -E "error|warning: " >&2 || true
bench="$scratch/release/neural-bench"
thermocolor="$scratch/release/thermocolor"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
  echo "round $round" | tee -a "$log"
  "$bench" "$bundle" --batches 1,4,8 --frames "$frames" --size "$size" "${precision_args[@]}" | tee -a "$log"
  "$python" Benchmarks/neural_baseline.py "$bundle" --batches 1,8 --frames "$frames" --size "$size" \
    "${precision_args[@]}" | tee -a "$log"
done

# Ratios within each round (Swift and Python ran minutes apart at most),
# then the median over rounds: the machine is shared, so its load moves.
awk '
  $1 == "round" { r = $2; rounds = r }
  $1 == "fps" { v[r, $2 " " $3] = $4 }
  function median(name,   i, j, n, t, a) {
    n = 0
    for (i = 1; i <= rounds; i++) a[++n] = ratio[i, name]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    split("b4/b1 b8/b1 b8/sync1 b1/sync1 swift/python@1 swift/python@8 best/best", names, " ")
    printf "\nframes per second by round: sync1 pipe1 pipe4 pipe8 | python1 python8\n"
    for (i = 1; i <= rounds; i++) {
      s1 = v[i, "sync 1"]; b1 = v[i, "pipelined 1"]; b4 = v[i, "pipelined 4"]; b8 = v[i, "pipelined 8"]
      p1 = v[i, "python 1"]; p8 = v[i, "python 8"]
      printf "  round %d: %6.2f %6.2f %6.2f %6.2f | %6.2f %6.2f\n", i, s1, b1, b4, b8, p1, p8
      ours = b1; if (b4 > ours) ours = b4; if (b8 > ours) ours = b8
      py = p1; if (p8 > py) py = p8
      ratio[i, "b4/b1"] = b4 / b1; ratio[i, "b8/b1"] = b8 / b1
      ratio[i, "b8/sync1"] = b8 / s1; ratio[i, "b1/sync1"] = b1 / s1
      ratio[i, "swift/python@1"] = b1 / p1; ratio[i, "swift/python@8"] = b8 / p8
      ratio[i, "best/best"] = ours / py
    }
    printf "ratios, median of %d rounds\n", rounds
    printf "  pipelined batch 4 / pipelined batch 1   %5.2fx  (goal >= 1.5)\n", median("b4/b1")
    printf "  pipelined batch 8 / pipelined batch 1   %5.2fx  (goal >= 1.5)\n", median("b8/b1")
    printf "  pipelined batch 8 / sync batch 1        %5.2fx\n", median("b8/sync1")
    printf "  pipelined batch 1 / sync batch 1        %5.2fx  (overlap alone)\n", median("b1/sync1")
    printf "  swift / python loop, batch 1            %5.2fx\n", median("swift/python@1")
    printf "  swift / python loop, batch 8            %5.2fx\n", median("swift/python@8")
    printf "  swift best / python best                %5.2fx  (goal >= 1.2)\n", median("best/best")
  }' "$log"

# The inference ceiling: OpenVINO's benchmark_app on the same network file,
# throughput hint, shapes fixed at the bundle's working size and batch 1.
read -r model_file shape_arg < <("$python" - "$bundle" <<'PY'
import json, os, sys
folder = sys.argv[1]
manifest = json.load(open(os.path.join(folder, "model.json")))
width, height = manifest["size"] if isinstance(manifest["size"], list) else (640, 512)
tensors = manifest["tensors"]
shapes = [f"{tensors['thermal']}[1,1,{height},{width}]"]
for role in ("visible", "reference"):
    if role in tensors:
        shapes.append(f"{tensors[role]}[1,3,{height},{width}]")
if "text" in tensors:
    shapes.append(f"{tensors['text']}[1,{manifest['textDimension']}]")
network = "model.onnx" if os.path.exists(os.path.join(folder, "model.onnx")) else "model.xml"
print(os.path.join(folder, network), ",".join(shapes))
PY
)
ceiling_args=()
[ -n "${PRECISION:-}" ] && ceiling_args=(-infer_precision "$PRECISION")
ceiling=$(.deps/py/bin/benchmark_app -m "$model_file" -d CPU -shape "$shape_arg" -hint throughput -t 15 \
  "${ceiling_args[@]}" 2>&1 | awk '/Throughput:/ { print $(NF-1) }' | tail -n1)
engine=$(awk '$1 == "fps" && ($2 == "pipelined" || $2 == "sync") { if ($4 > best) best = $4 } END { print best + 0 }' "$log")
printf '\nOpenVINO benchmark_app on %s (%s): %s fps, the inference ceiling\n' "$model_file" "$shape_arg" "${ceiling:-?}"
awk -v e="$engine" -v c="${ceiling:-0}" 'BEGIN {
  if (c > 0) printf "  engine network-only best / benchmark_app   %5.2fx  (goal >= 0.8)\n", e / c }'

# The whole pipeline: decode a 16-bit clip, gain control, the network in
# batches with requests in flight, encode. End-to-end frames per second, and
# the steady rate once running: a 2-frame run of the same command measures
# what every run pays once (process start, reading and compiling the network),
# and steady = (frames - 2) / (time - that time).
clip="$(mktemp -d)"
trap 'rm -f "$log"; rm -rf "$clip"' EXIT
"$thermocolor" synth "$clip/clip.mkv" --frames "$frames" --size "$size" >/dev/null
"$thermocolor" synth "$clip/start.mkv" --frames 2 --size "$size" >/dev/null
seconds() {
  local start end
  rm -f "$clip/out.mkv"
  start=$(date +%s.%N)
  "$thermocolor" convert "$1" "$clip/out.mkv" --model "$bundle" --batch "$2" "${precision_args[@]}" --quiet
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { print e - s }'
}
printf '\nthermocolor convert --model (16-bit FFV1 decode → network → H.264 encode), %s frames at %s:\n' "$frames" "$size"
for batch in 1 4 8; do
  whole=$(seconds "$clip/clip.mkv" "$batch")
  once=$(seconds "$clip/start.mkv" "$batch")
  awk -v b="$batch" -v f="$frames" -v w="$whole" -v o="$once" 'BEGIN {
    printf "  batch %d: %6.2f fps end to end, %6.2f fps steady (start-up %.2f s)\n", b, f / w, (f - 2) / (w - o), o }'
done
