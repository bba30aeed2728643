#!/usr/bin/env bash
# Offline conversion throughput: `thermocolor convert` against the ffmpeg
# command line doing the same work on the same clip, in the same run:
#   read 16-bit grey → palette → yuv420p → libx264 (same preset and CRF).
# Two inputs: headerless gray16le (no decoding cost, so the pipeline and the
# encoder decide) and 16-bit FFV1 (lossless decoding dominates).
# Prints frames per second for both tools and our ratio (>1: we are faster).
#
# A baseline build of thermocolor can run in the same runs, on the same clips,
# so a change is judged against what it changed rather than against numbers
# from another day: each line then also gives the baseline's frames per
# second and this build's ratio to it (>1: this build is faster).
#
#   Benchmarks/convert.sh [FRAMES] [WIDTHxHEIGHT] [RUNS]
#   BASELINE_REV=cf92f20 Benchmarks/convert.sh 300 640x512 3   # against that revision, built here
#   BASELINE_BIN=/path/to/thermocolor Benchmarks/convert.sh    # against a binary already built
#   THERMOCOLOR_BIN=/path/to/thermocolor Benchmarks/convert.sh # time that binary instead of building this tree
#
# BASELINE_REV (any commit name git knows) is exported with `git archive` into
# .build/baseline/COMMIT (git-ignored) and built there in release mode with its
# own --scratch-path, sharing this tree's .deps (OpenVINO) and Package.resolved;
# the export is kept, because the binary finds OpenVINO through it, so a second
# run against the same commit reuses the build. The first is a full release
# build: minutes on two cores.
set -euo pipefail
frames="${1:-300}"
size="${2:-640x512}"
runs="${3:-3}"
preset=veryfast
crf=23

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="${THERMOCOLOR_BIN:-}"
if [[ -z "$bin" ]]; then
  swift build -c release --product thermocolor >/dev/null
  bin="$root/.build/release/thermocolor"
fi
baseline="${BASELINE_BIN:-}"
baseline_name="baseline"
if [[ -z "$baseline" && -n "${BASELINE_REV:-}" ]]; then
  commit="$(git rev-parse --verify --short "${BASELINE_REV}^{commit}")"
  tree="$root/.build/baseline/$commit"
  if [[ ! -f "$tree/Package.swift" ]]; then
    mkdir -p "$tree"
    git archive "$commit" | tar -x -C "$tree"
  fi
  [[ -e "$tree/.deps" ]] || ln -s "$root/.deps" "$tree/.deps"
  [[ -f "$tree/Package.resolved" || ! -f "$root/Package.resolved" ]] || cp "$root/Package.resolved" "$tree/"
  echo "building the baseline $commit in $tree" >&2
  swift build -c release --product thermocolor --package-path "$tree" --scratch-path "$tree/.build" >/dev/null
  baseline="$tree/.build/release/thermocolor"
  baseline_name="$commit"
elif [[ -n "$baseline" ]]; then
  baseline_name="$(basename "$baseline")"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; }
best() { sort -g | head -n1; }

"$bin" synth "$work/clip.y16" --frames "$frames" --size "$size" --fps 30 >/dev/null
"$bin" synth "$work/clip.mkv" --frames "$frames" --size "$size" --fps 30 >/dev/null
raw_ffmpeg=(-f rawvideo -video_size "$size" -pixel_format gray16le -framerate 30)
raw_ours=(--input-format rawvideo --input-option "video_size=$size" --input-option pixel_format=gray16le --input-option framerate=30)

printf 'clip: %s frames, %s; libx264 preset %s crf %s; best of %s runs; %s cores, load %s\n' \
  "$frames" "$size" "$preset" "$crf" "$runs" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
[[ -z "$baseline" ]] || printf 'baseline %s: %s\n' "$baseline_name" "$baseline"
for kind in raw ffv1; do
  if [ "$kind" = raw ]; then
    input="$work/clip.y16"; ffmpeg_in=("${raw_ffmpeg[@]}"); ours_in=("${raw_ours[@]}")
  else
    input="$work/clip.mkv"; ffmpeg_in=(); ours_in=()
  fi
  ffmpeg_times=(); ours_times=(); baseline_times=()
  for ((run = 1; run <= runs; run++)); do
    start=$(now)
    ffmpeg -y -v error "${ffmpeg_in[@]}" -i "$input" \
      -vf "format=yuv444p,pseudocolor=p=magma,format=yuv420p" \
      -c:v libx264 -preset "$preset" -crf "$crf" "$work/ffmpeg.mp4"
    ffmpeg_times+=("$(calc "$(now) - $start")")
    start=$(now)
    "$bin" convert "$input" "$work/ours.mp4" "${ours_in[@]}" --palette magma --preset "$preset" --crf "$crf" --quiet
    ours_times+=("$(calc "$(now) - $start")")
    if [[ -n "$baseline" ]]; then
      start=$(now)
      "$baseline" convert "$input" "$work/baseline.mp4" "${ours_in[@]}" --palette magma --preset "$preset" --crf "$crf" --quiet
      baseline_times+=("$(calc "$(now) - $start")")
    fi
  done
  ffmpeg_fps=$(calc "$frames / $(printf '%s\n' "${ffmpeg_times[@]}" | best)")
  ours_fps=$(calc "$frames / $(printf '%s\n' "${ours_times[@]}" | best)")
  line=$(printf '%-5s input: ffmpeg command line %7.1f fps · thermocolor convert %7.1f fps · ratio %.2f' \
    "$kind" "$ffmpeg_fps" "$ours_fps" "$(calc "$ours_fps / $ffmpeg_fps")")
  if [[ -n "$baseline" ]]; then
    baseline_fps=$(calc "$frames / $(printf '%s\n' "${baseline_times[@]}" | best)")
    line+=$(printf ' · %s %7.1f fps · ratio to it %.2f' "$baseline_name" "$baseline_fps" "$(calc "$ours_fps / $baseline_fps")")
  fi
  echo "$line"
done
