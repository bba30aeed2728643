#!/usr/bin/env bash
# The whole test suite, set-up included: what CI runs and what the README gives.
# The training kit's pytest suite runs first, against the freshly built engine;
# then the Swift suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
Scripts/setup.sh --train
swift build --build-tests
THERMOCOLOR="$root/.build/debug/thermocolor" .deps/train/bin/python -m pytest -q -p no:cacheprovider Training/tests
exec swift test --skip-build "$@"
