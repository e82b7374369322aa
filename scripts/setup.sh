#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install the project with its test and dev extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=""
for candidate in python3.12 python3.13 "$HOME/.pyenv/versions/3.12.1/bin/python" python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
    PY="$candidate"; break
  fi
done
if [ -z "$PY" ] && command -v pyenv >/dev/null 2>&1; then PY="$(pyenv which python3.12 2>/dev/null || true)"; fi
[ -n "$PY" ] || { echo "Python >= 3.12 is required (Panel 1.10)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,dev]"
.venv/bin/python -c "import dashboard, panel, polars; print('installed: panel', panel.__version__, '| polars', polars.__version__)"
