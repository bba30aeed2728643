#!/usr/bin/env bash
# The whole test suite, set-up included: what CI runs and what the README gives.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
Scripts/setup.sh
swift build --build-tests
exec swift test --skip-build "$@"
