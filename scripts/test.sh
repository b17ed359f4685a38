#!/usr/bin/env bash
# Set up .venv (first run only) and run the test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
export RAY_AUTH_MODE=disabled
if [ $# -gt 0 ]; then
  exec .venv/bin/python -m pytest -q "$@"
fi
# The suite shares one local Ray cluster; the multi-node cluster tests start their own, so they
# run in a second pytest process.
.venv/bin/python -m pytest -q
exec .venv/bin/python -m pytest -q -m cluster
