#!/usr/bin/env bash
# Runs scripts/gpu_check.py (neural models: cuda vs cpu speed) with the project's virtualenv python.
# Arguments are passed on (--quick, --series, --length, --seconds, --threads ...); PYTHON overrides the interpreter
# on a machine whose torch build lives elsewhere (e.g. a cuda wheel in another environment).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
if [[ ! -x "$python" ]]; then
    echo "no python at $python: run 'make install-dev' or set PYTHON" >&2
    exit 2
fi
cd "$root"
exec "$python" scripts/gpu_check.py "$@"
