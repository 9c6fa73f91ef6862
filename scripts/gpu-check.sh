#!/usr/bin/env bash
# The device check of the CUDA path (issue 27), one script, under 8 minutes on one
# H100 or H200: the GPU tests (tests/model/test_cuda.py), the scale benchmark on CUDA
# (SmolLM2-135M and the random 1B Llama) and a real gate run of the README demo
# (examples/smollm2.yaml) with --bias-gate-device cuda and a cold cache.
#
#   bash scripts/gpu-check.sh [OUT_DIR]      # OUT_DIR default: gpu-check-out
#
# Needs a CUDA build of torch and the data mirror (BIAS_GATE_DATA_DIR, else
# ../shared/data or ./shared/data). Exits non-zero at the first failed step; every
# step's output is kept under OUT_DIR (figures: bench-scale.log, gate/results.json).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-gpu-check-out}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
if [ -z "${BIAS_GATE_DATA_DIR:-}" ]; then
  for d in ../shared/data shared/data; do
    if [ -d "$d/bbq" ]; then BIAS_GATE_DATA_DIR="$(cd "$d" && pwd)"; fi
  done
fi
export BIAS_GATE_DATA_DIR="${BIAS_GATE_DATA_DIR:?set BIAS_GATE_DATA_DIR to the data mirror}"
export BIAS_GATE_CACHE_DIR="$OUT/cache"   # cold: nothing from an earlier run is reused
step() { echo "== $(date -u +%T) $*"; }

step "device"
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA device visible'; \
print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))" | tee "$OUT/device.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >>"$OUT/device.txt" || true

step "GPU tests (must pass, not skip)"
timeout 60 python -m pytest tests/model/test_cuda.py -q -p no:cacheprovider -rs \
  | tee "$OUT/test-cuda.log"
if grep -q SKIPPED "$OUT/test-cuda.log"; then echo "GPU tests were skipped" >&2; exit 1; fi

step "scale benchmark on CUDA (last line: the 1B figures)"
timeout 240 python benchmarks/bench_scale.py --device cuda --sizes smollm2 1b \
  --data-dir "$BIAS_GATE_DATA_DIR" --work "$OUT/bench" | tee "$OUT/bench-scale.log"

step "the README demo gated on CUDA, cold cache"
mkdir -p "$OUT/gate"
start=$(date +%s)
timeout 150 python -m pytest -p no:cacheprovider --bias-gate examples/smollm2.yaml \
  --bias-gate-device cuda --bias-gate-data-dir "$BIAS_GATE_DATA_DIR" \
  --bias-gate-cache-dir "$OUT/gate/cache" --bias-gate-json "$OUT/gate/results.json" \
  --junitxml "$OUT/gate/junit.xml" -q | tee "$OUT/gate.log" || rc=$?
echo "gate seconds: $(( $(date +%s) - start )), pytest exit ${rc:-0}" | tee -a "$OUT/gate.log"
# exit 1 is a FAIL verdict (the gate ran); anything else is a broken run
[ "${rc:-0}" -le 1 ]
step "done"
