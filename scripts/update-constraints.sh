#!/usr/bin/env bash
# Regenerate constraints/ci.txt on purpose: install the newest releases that
# pyproject.toml allows into a brand-new virtual environment (scripts/setup.sh with
# BIAS_GATE_CONSTRAINTS=none), then freeze exactly what got installed. Review the diff,
# run `bash .ci/run` in another fresh virtual environment, and commit the file with the
# fixes it needed. Never edited by hand except to hold a package back (with a comment).
#
#   bash scripts/update-constraints.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python -m venv "$work/venv"
# shellcheck disable=SC1091  # created just above
. "$work/venv/bin/activate"
BIAS_GATE_CONSTRAINTS=none bash scripts/setup.sh
{
  echo "# Every package scripts/setup.sh installs (CI: .ci/run), at the versions CI is known"
  echo "# to pass with. Regenerated on purpose by scripts/update-constraints.sh on $(date -u +%F)"
  echo "# with $(python --version); local version labels (torch's +cpu) are dropped."
  python -m pip freeze --all --exclude-editable | sed -E 's/\+[A-Za-z0-9.]+$//'
} >constraints/ci.txt
echo "update-constraints: wrote constraints/ci.txt ($(grep -c '==' constraints/ci.txt) pins);"
echo "update-constraints: now run bash .ci/run in a fresh virtual environment before committing"
