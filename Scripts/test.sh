#!/usr/bin/env bash
# The whole test suite, set-up included: what CI runs and what the README gives.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
Scripts/setup.sh
swift build --build-tests
# The vivid guest's own tests run inside the VM (VividVMTests boots it);
# on the host they would only be listed as skipped.
exec swift test --skip-build --skip VividGuestTests "$@"
