#!/usr/bin/env bash
# Set up, then run the gate on the embedded default model (SmolLM2-135M-Instruct).
# Extra arguments go to pytest, e.g. --bias-gate-limit 24 for a smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
# The demo does not use llama.cpp: its source build (~3.5 min) is left to the tests' set-up.
BIAS_GATE_LLAMA=0 bash scripts/setup.sh
# Offline machines: point BIAS_GATE_DATA_DIR at a local mirror of the official data
# (bbq/<Category>.jsonl, wikitext-2/{valid,test}.txt); otherwise it is downloaded once.
if [ -z "${BIAS_GATE_DATA_DIR:-}" ] && [ -d ../shared/data/bbq ]; then
  export BIAS_GATE_DATA_DIR="$(cd ../shared/data && pwd)"
  echo "bias-gate demo: using the local data mirror $BIAS_GATE_DATA_DIR"
fi
mkdir -p bias-gate-results
exec python -m pytest --bias-gate examples/smollm2.yaml \
  --bias-gate-json bias-gate-results/results.json \
  --bias-gate-junit bias-gate-results/bias-gate.xml \
  --bias-gate-markdown bias-gate-results/summary.md \
  --bias-gate-html bias-gate-results/report.html \
  --bias-gate-plots bias-gate-results/plots \
  --junitxml bias-gate-results/junit.xml "$@"
