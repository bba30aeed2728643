#!/usr/bin/env bash
# Offline conversion throughput: `thermocolor convert` against the ffmpeg
# command line doing the same work on the same clip, in the same run:
#   decode FFV1 16-bit grey → palette → yuv420p → libx264 (same preset, CRF).
# Prints frames per second for both and our ratio (>1 means we are faster).
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

"$bin" synth "$work/clip.mkv" --frames "$frames" --size "$size" --fps 30 >/dev/null

now() { date +%s.%N; }
best() { sort -g | head -n1; }
calc() { awk "BEGIN { print $1 }"; }

ffmpeg_times=()
ours_times=()
for ((run = 1; run <= runs; run++)); do
  start=$(now)
  ffmpeg -y -v error -i "$work/clip.mkv" \
    -vf "format=yuv444p,pseudocolor=p=magma,format=yuv420p" \
    -c:v libx264 -preset "$preset" -crf "$crf" "$work/ffmpeg.mp4"
  ffmpeg_times+=("$(calc "$(now) - $start")")

  start=$(now)
  "$bin" convert "$work/clip.mkv" "$work/ours.mp4" --palette magma --preset "$preset" --crf "$crf" --quiet
  ours_times+=("$(calc "$(now) - $start")")
done

ffmpeg_best=$(printf '%s\n' "${ffmpeg_times[@]}" | best)
ours_best=$(printf '%s\n' "${ours_times[@]}" | best)
ffmpeg_fps=$(calc "$frames / $ffmpeg_best")
ours_fps=$(calc "$frames / $ours_best")
ratio=$(calc "$ours_fps / $ffmpeg_fps")

printf 'clip: %s frames, %s, 16-bit FFV1; encoder libx264 preset %s crf %s; best of %s runs on %s cores\n' \
  "$frames" "$size" "$preset" "$crf" "$runs" "$(nproc)"
printf 'ffmpeg command line : %7.1f fps (%.2f s)\n' "$ffmpeg_fps" "$ffmpeg_best"
printf 'thermocolor convert : %7.1f fps (%.2f s)\n' "$ours_fps" "$ours_best"
printf 'ratio (ours/ffmpeg) : %7.2f\n' "$ratio"
