#!/usr/bin/env bash
# Offline conversion throughput: `thermocolor convert` against the ffmpeg
# command line doing the same work on the same clip, in the same run:
#   read 16-bit grey → palette → yuv420p → libx264 (same preset and CRF).
# Two inputs: headerless gray16le (no decoding cost, so the pipeline and the
# encoder decide) and 16-bit FFV1 (lossless decoding dominates).
# Prints frames per second for both tools and our ratio (>1: we are faster).
#
#   Benchmarks/convert.sh [FRAMES] [WIDTHxHEIGHT] [RUNS]
set -euo pipefail
frames="${1:-300}"
size="${2:-640x512}"
runs="${3:-3}"
preset=veryfast
crf=23

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
swift build -c release --product thermocolor >/dev/null
bin="$root/.build/release/thermocolor"
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
for kind in raw ffv1; do
  if [ "$kind" = raw ]; then
    input="$work/clip.y16"; ffmpeg_in=("${raw_ffmpeg[@]}"); ours_in=("${raw_ours[@]}")
  else
    input="$work/clip.mkv"; ffmpeg_in=(); ours_in=()
  fi
  ffmpeg_times=(); ours_times=()
  for ((run = 1; run <= runs; run++)); do
    start=$(now)
    ffmpeg -y -v error "${ffmpeg_in[@]}" -i "$input" \
      -vf "format=yuv444p,pseudocolor=p=magma,format=yuv420p" \
      -c:v libx264 -preset "$preset" -crf "$crf" "$work/ffmpeg.mp4"
    ffmpeg_times+=("$(calc "$(now) - $start")")
    start=$(now)
    "$bin" convert "$input" "$work/ours.mp4" "${ours_in[@]}" --palette magma --preset "$preset" --crf "$crf" --quiet
    ours_times+=("$(calc "$(now) - $start")")
  done
  ffmpeg_fps=$(calc "$frames / $(printf '%s\n' "${ffmpeg_times[@]}" | best)")
  ours_fps=$(calc "$frames / $(printf '%s\n' "${ours_times[@]}" | best)")
  printf '%-5s input: ffmpeg command line %7.1f fps · thermocolor convert %7.1f fps · ratio %.2f\n' \
    "$kind" "$ffmpeg_fps" "$ours_fps" "$(calc "$ours_fps / $ffmpeg_fps")"
done
