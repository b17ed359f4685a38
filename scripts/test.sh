#!/usr/bin/env bash
# Set up .venv (first run only) and run the test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
export RAY_AUTH_MODE=disabled
exec .venv/bin/python -m pytest -q "$@"
