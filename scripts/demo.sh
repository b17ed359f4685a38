#!/usr/bin/env bash
# Set up .venv (first run only) and run the demo study end to end: embedded corpus, Ray Tune sweep of
# Ray Train trials, results tables, report and plots under runs/demo/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
export RAY_AUTH_MODE=disabled
exec .venv/bin/study run configs/demo.yaml --yes "$@"
