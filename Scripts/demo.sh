#!/usr/bin/env bash
# The main job on the bundled sample: installs what is missing, builds, and
# colourises Samples/thermal-sample.mkv (a synthetic 14-bit clip made by
# `thermocolor synth`) into out/sample-ironbow.mp4 plus a PNG preview frame,
# and the same clip through the shipped neural colouriser models/road-colorizer
# into out/sample-neural.mp4 with its preview out/sample-neural.png.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
Scripts/setup.sh
swift build -c release --product thermocolor
mkdir -p out
.build/release/thermocolor convert Samples/thermal-sample.mkv out/sample-ironbow.mp4 \
  --palette ironbow --preview out/sample-ironbow.png --stats "$@"
.build/release/thermocolor convert Samples/thermal-sample.mkv out/sample-neural.mp4 \
  --model models/road-colorizer --preview out/sample-neural.png
