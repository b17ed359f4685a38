#!/usr/bin/env bash
# Create .venv and install the project (idempotent; re-installs when pyproject or constraints change).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
stamp=.venv/.installed
want="$(cat pyproject.toml constraints/*.txt | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  constraint=()
  # GPU machines take their own torch build; CPU machines pin the CPU wheel.
  if ! command -v nvidia-smi >/dev/null 2>&1; then constraint=(-c constraints/cpu.txt); fi
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q "${constraint[@]}" -e ".[dev]"
  echo "$want" >"$stamp"
fi
bash scripts/setup_cldr.sh
