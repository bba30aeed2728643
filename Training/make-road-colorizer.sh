#!/usr/bin/env bash
# Re-makes models/road-colorizer from RoadScene (../shared/data/roadscene):
# set-up, training on the 137 training pairs in three phases (75 minutes of
# wall time; the schedules fit the budget), validation on the 34 held-out
# pairs beside the baselines, export, the PyTorch-vs-engine parity check and
# the Swift test's reference pixels. About 80 minutes in all on the 2-core
# machine.
#
#   Training/make-road-colorizer.sh
#
# Phase 1 (15 minutes): the reconstruction losses, from the fitted
# grey->Lab prior. Phase 2 (35 minutes, from phase 1): much stronger
# per-pixel chroma, a lightness-gradient term held in check by a smoothness
# term on the local colour models, and a larger adversarial weight, against
# the washed-out picture that phase 1 drifts to. Phase 3 (25 minutes, from
# phase 2): at a third of phase 2's learning rate, with half its chroma
# weight. Phase 2's strong chroma term leaves the colour too saturated where
# the network is unsure: scaling the phase-3-at-full-chroma model's a*b* by
# 0.8 after the fact lowered ΔE on the validation split from 15.5 to 14.7
# (each scene described), with colourfulness still 0.68x the visible's.
# Phase 3 also draws 30 % of its kept captions from short ones that leave
# out some of the scene's properties, so that a short prompt ("a city
# street") gets the network's best guess for what it does not say: short
# true prompts went from 13.5 to 15.7 dB on the validation split.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
run=.deps/runs/road-colorizer
bundle=models/road-colorizer
py=.deps/train/bin/python
data=../shared/data/roadscene
[ -d "$data/ir" ] || { echo "make-road-colorizer: no RoadScene at $data" >&2; exit 1; }

Scripts/setup.sh --train
[ -x .build/release/thermocolor ] || swift build -c release --product thermocolor

nice -n 5 "$py" -m thermocolor_training train --data "$data" --out "$run-phase1" --minutes 15 \
  --batch 6 --threads 2
phase2_weights='{"chroma": 12, "gradient": 0.8, "smooth": 2, "adversarial": 0.1}'
nice -n 5 "$py" -m thermocolor_training train --data "$data" --out "$run-phase2" --init "$run-phase1/model.pt" \
  --minutes 35 --lr 1e-3 --batch 6 --threads 2 --adversarial-from 0.1 --weights "$phase2_weights"
phase3_weights='{"chroma": 6, "gradient": 0.8, "smooth": 2, "adversarial": 0.1}'
nice -n 5 "$py" -m thermocolor_training train --data "$data" --out "$run" --init "$run-phase2/model.pt" \
  --minutes 25 --lr 3e-4 --batch 6 --threads 2 --adversarial-from 0.1 --weights "$phase3_weights" \
  --partial-captions 0.3
"$py" -m thermocolor_training export --checkpoint "$run/model.pt" --bundle "$bundle"
"$py" -m thermocolor_training evaluate --data "$data" --checkpoint "$run/model.pt" --out "$bundle/validation"
"$py" -m thermocolor_training ceilings --data "$data" --out "$bundle/validation/ceilings.json"
"$py" -m thermocolor_training parity --checkpoint "$run/model.pt" --bundle "$bundle" \
  --thermocolor .build/release/thermocolor --out "$bundle/validation/parity.json" \
  $(sed -n '3,8p' Training/splits/roadscene-val.txt | sed "s|^|$data/ir/|")
"$py" -m thermocolor_training reference --checkpoint "$run/model.pt" --bundle "$bundle" --out "$bundle/validation/reference"
echo "make-road-colorizer: $bundle ready; numbers in $bundle/validation/"
