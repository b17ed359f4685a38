#!/usr/bin/env bash
# Set up .venv (first run only) and run the benchmarks; each prints one line and writes its JSON to
# bench/results/. Progress noise (Ray, transformers) goes to a log per bench, shown on failure.
#   bash scripts/bench.sh                 # sampler, train, eval, faiss, emoji, search, input (+ gpu where nvidia-smi works)
#   bash scripts/bench.sh --with-demo     # also the demo study's wall time (about 11 minutes)
#   bash scripts/bench.sh --with-import   # also the import bench (20,000 photos, about 7 minutes)
#   bash scripts/bench.sh sampler gpu     # only the named ones (sampler train eval faiss emoji search input import demo gpu)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
export RAY_AUTH_MODE=disabled

names=()
with_demo=0
with_import=0
for arg in "$@"; do
  case "$arg" in
    --with-demo) with_demo=1 ;;
    --with-import) with_import=1 ;;
    sampler | train | eval | faiss | emoji | search | input | import | demo | gpu) names+=("$arg") ;;
    *) echo "error: unknown argument '$arg'; use --with-demo, --with-import or names among sampler train eval faiss emoji search input import demo gpu" >&2; exit 2 ;;
  esac
done
if [ ${#names[@]} -eq 0 ]; then
  names=(sampler train eval faiss emoji search input)
  if [ "$with_import" = 1 ]; then names+=(import); fi
  if [ "$with_demo" = 1 ]; then names+=(demo); fi
  if nvidia-smi >/dev/null 2>&1; then names+=(gpu); fi
fi

logs="$(mktemp -d -t bench-logs.XXXXXX)"
failed=0
for name in "${names[@]}"; do
  log="$logs/$name.log"
  if ! .venv/bin/python "bench/${name}_bench.py" 2>"$log"; then
    echo "${name}_bench FAILED; last lines of $log:" >&2
    tail -n 20 "$log" >&2
    failed=1
  fi
done
exit "$failed"
