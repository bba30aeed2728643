#!/usr/bin/env bash
# What extra outputs cost. One clip is converted, in the same run, to:
#   baseline : one MP4
#   shared   : MP4 + MPEG-TS + Matroska + a folder of 1 s segments, all from one encode
#   second   : MP4 + HLS at its own bitrate (a second encoder on its own thread)
# Prints the best time of each and its ratio to the baseline: shared should
# stay near 1 (muxing is cheap), second near the cost of another encode.
#
#   Benchmarks/outputs.sh [FRAMES] [WIDTHxHEIGHT] [RUNS]
#   THERMOCOLOR_BIN=.build-x/debug/thermocolor Benchmarks/outputs.sh   # an already built binary
set -euo pipefail
frames="${1:-300}"
size="${2:-640x512}"
runs="${3:-3}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="${THERMOCOLOR_BIN:-}"
if [[ -z "$bin" ]]; then
  swift build -c release --product thermocolor >/dev/null
  bin="$root/.build/release/thermocolor"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin" synth "$work/clip.mkv" --frames "$frames" --size "$size" --fps 30 >/dev/null

now() { date +%s.%N; }
best() { sort -g | head -n1; }
calc() { awk "BEGIN { print $1 }"; }

timed() {
  rm -rf "$work/out" && mkdir -p "$work/out"
  local start
  start=$(now)
  "$bin" convert "$work/clip.mkv" "$work/out/main.mp4" --quiet "$@"
  calc "$(now) - $start"
}

baseline=() shared=() second=()
for ((run = 1; run <= runs; run++)); do
  baseline+=("$(timed)")
  shared+=("$(timed --output "$work/out/copy.ts" --output "$work/out/copy.mkv" --output "$work/out/segments/" --segment 1s)")
  second+=("$(timed --output "hls:$work/out/web?bitrate=500k")")
done

b=$(printf '%s\n' "${baseline[@]}" | best)
s=$(printf '%s\n' "${shared[@]}" | best)
h=$(printf '%s\n' "${second[@]}" | best)
printf 'clip: %s frames, %s; libx264 veryfast; best of %s runs on %s cores; %s\n' "$frames" "$size" "$runs" "$(nproc)" "$bin"
printf 'baseline (1 output)             : %6.2f s\n' "$b"
printf 'shared encode (4 outputs)       : %6.2f s  ratio %.2f\n' "$s" "$(calc "$s / $b")"
printf 'second encoder (MP4 + HLS 500k) : %6.2f s  ratio %.2f\n' "$h" "$(calc "$h / $b")"
