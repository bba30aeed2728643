#!/usr/bin/env bash
# Re-makes models/road-colorizer from RoadScene (../shared/data/roadscene):
# set-up, training on the 137 training pairs (55 minutes of wall time on the
# 2-core machine; the schedule fits the budget), validation on the 34 held-out
# pairs beside the baselines, export, and the PyTorch-vs-engine parity check.
#
#   Training/make-road-colorizer.sh [MINUTES]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
minutes="${1:-55}"
run=.deps/runs/road-colorizer
bundle=models/road-colorizer
py=.deps/train/bin/python
data=../shared/data/roadscene
[ -d "$data/ir" ] || { echo "make-road-colorizer: no RoadScene at $data" >&2; exit 1; }

Scripts/setup.sh --train
[ -x .build/release/thermocolor ] || swift build -c release --product thermocolor

nice -n 5 "$py" -m thermocolor_training train --data "$data" --out "$run" --minutes "$minutes" --batch 6 --threads 2
"$py" -m thermocolor_training export --checkpoint "$run/model.pt" --bundle "$bundle"
"$py" -m thermocolor_training evaluate --data "$data" --checkpoint "$run/model.pt" --out "$bundle/validation"
"$py" -m thermocolor_training parity --checkpoint "$run/model.pt" --bundle "$bundle" \
  --thermocolor .build/release/thermocolor --out "$bundle/validation/parity.json" \
  $(sed -n '3,8p' Training/splits/roadscene-val.txt | sed "s|^|$data/ir/|")
echo "make-road-colorizer: $bundle ready; numbers in $bundle/validation/"
