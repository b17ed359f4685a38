#!/usr/bin/env bash
# One prepared GPU check (at most about 8 minutes on one GPU): the GPU training benchmark (bf16
# samples/s and MFU, in-process vs Ray Train), one demo-sized trial on the GPU through Ray Train,
# the evaluation benchmark on the GPU path and a faiss-gpu search. One summary line per check.
# Without an NVIDIA GPU it runs the CPU-safe parts (small CPU versions) and says what it skipped.
#   bash scripts/gpu_check.sh            # uses .venv (scripts/setup.sh) or PYTHON
# Full logs: $GPU_CHECK_LOGS (default: a temporary dir, named at the end).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export RAY_AUTH_MODE=disabled PYTHONUNBUFFERED=1
py="${PYTHON:-.venv/bin/python}"
[ -x "$py" ] || py=python3
logs="${GPU_CHECK_LOGS:-$(mktemp -d -t gpu-check.XXXXXX)}"
mkdir -p "$logs"
work="$(mktemp -d -t gpu-check-run.XXXXXX)"

gpu=0
if nvidia-smi >/dev/null 2>&1 && "$py" -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
  gpu=1
fi

failed=0
check() {  # check NAME TIMEOUT_S COMMAND...: run it, print its last line as the summary
  local name=$1 limit=$2
  shift 2
  local log="$logs/$name.log" started=$SECONDS
  if timeout "$limit" "$@" >"$log" 2>&1; then
    echo "PASS $name ($((SECONDS - started)) s): $(grep -v '^\s*$' "$log" | tail -n 1)"
  else
    echo "FAIL $name ($((SECONDS - started)) s, exit $?): $(grep -v '^\s*$' "$log" | tail -n 1)"
    failed=1
  fi
}

if [ "$gpu" = 1 ]; then
  echo "GPU: $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -n 1)"
  check gpu_bench 200 "$py" bench/gpu_bench.py --steps 100 --repeats 1
  smallest=$("$py" -c "from study.config import load_config; print(min(load_config('configs/demo.yaml').sweep.data_sizes))")
  check gpu_trial 150 "$py" -m study run configs/demo.yaml --fresh --yes \
    --set name=gpu-check --set "resources.storage=$work" --set "sweep.data_sizes=[$smallest]" \
    --set "sweep.arms=[hybrid]" --set "sweep.mix_ratios=[0.5]" --set "sweep.seeds=[0]" \
    --set resources.gpus_per_worker=1 --set resources.cpus_per_worker=4
  check eval_gpu 120 "$py" bench/eval_bench.py --device cuda --repeats 1 --naive-pairs 1 \
    --out bench/results/eval_bench_gpu.json
  check faiss_gpu 60 "$py" bench/faiss_bench.py
else
  echo "no NVIDIA GPU here: running the CPU-safe parts; skipped: bf16 GPU throughput and MFU," \
    "the GPU trial (gpus_per_worker: 1, NCCL), the GPU evaluation path, faiss-gpu"
  check gpu_bench_cpu_smoke 300 "$py" bench/gpu_bench.py --size tiny --device cpu --steps 20 --log-every 5 --repeats 1 --threads 1 --out "$work/gpu_bench_tiny.json"
  check eval_cpu_small 300 "$py" bench/eval_bench.py --device cpu --items 600 --languages 12 \
    --repeats 1 --naive-pairs 1 --out "$work/eval_bench_small.json"
  check faiss_cpu_small 120 "$py" bench/faiss_bench.py --items 20000 --queries 1000 \
    --out "$work/faiss_bench_small.json"
fi
rm -rf "$work"
echo "logs: $logs"
exit "$failed"
